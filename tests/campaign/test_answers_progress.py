"""``Campaign.answers()`` (the current answer per item, the web page's source) and the propose
progress: the overall fraction only grows, moves within training (per epoch) and scoring (per
chunk), and the lock row shows it."""

from __future__ import annotations

import pytest

from batchbald.campaign import Answer, Campaign
from batchbald.campaign import propose as propose_module

from .helpers import FAST, make_pool


@pytest.fixture
def proposed(campaign):
    campaign.propose()
    return campaign


def test_answers_are_the_current_answer_per_item(proposed):
    first, second, third = proposed.current_round().item_ids[:3]
    proposed.record(first, "a", "ann")
    proposed.record(first, "b", "bob")  # the latest answer of anyone is the item's answer
    proposed.skip(second, "ann")
    proposed.record(third, "c", "ann")
    proposed.undo("ann")  # cancels ann's label of `third`
    answers = proposed.answers()
    assert list(answers) == sorted([first, second])
    answer = answers[first]
    assert isinstance(answer, Answer)
    fields = (answer.kind, answer.label, answer.annotator, answer.round_number)
    assert fields == ("label", "b", "bob", 1)
    assert answer.answered_at.endswith("+00:00")
    assert answer.event_id == max(e.id for e in proposed.history() if e.item_id == first)
    assert (answers[second].kind, answers[second].label) == ("skip", None)
    assert proposed.labels() == {first: "b"}


def test_answers_by_annotator_keep_each_annotators_own(proposed):
    item = proposed.current_round().item_ids[0]
    proposed.record(item, "a", "ann")
    proposed.record(item, "b", "bob")
    mine = proposed.answers_by_annotator()[item]
    assert {who: answer.label for who, answer in mine.items()} == {"ann": "a", "bob": "b"}


def test_imported_labels_have_no_round(tmp_path):
    import numpy as np

    path, labels = make_pool(tmp_path, size=12)
    with np.load(path) as arrays:
        images = arrays["images"]
    known = np.full(12, -1)
    known[:2] = labels[:2]
    np.savez(tmp_path / "known.npz", images=images, labels=known,
             class_names=np.array(["a", "b", "c"]))  # fmt: skip
    campaign = Campaign.init(tmp_path / "p", source=f"npz:{tmp_path / 'known.npz'}",
                             classes="abc", **FAST)  # fmt: skip
    answers = campaign.answers()
    assert set(answers) == {"row-00000000", "row-00000001"}
    assert all(a.round_number is None and a.annotator == "source" for a in answers.values())


@pytest.mark.parametrize("regime", [{"fixed_epochs": 4}, {"min_holdout_labels": 2}],
                         ids=["fixed", "held-out"])  # fmt: skip
def test_propose_progress_grows_through_training_and_scoring(tmp_path, monkeypatch, regime):
    monkeypatch.setattr(propose_module, "_MIN_INTERVAL_S", 0.0)  # publish every step
    path, truth = make_pool(tmp_path, size=30)
    settings = {**FAST, "regime": {**FAST["regime"], **regime}, "batch_size": 8,
                "training": {**FAST["training"], "max_epochs": 4, "patience": 10}}  # fmt: skip
    campaign = Campaign.init(tmp_path / "p", source=f"npz:{path}", classes="abc", **settings)
    for item_id in campaign.propose().item_ids:
        campaign.record(item_id, "abc"[truth[int(item_id[4:])]], "ann")
    seen, rows = [], []

    def on_progress(phase, fraction):
        seen.append((phase, fraction))
        state = campaign.propose_state()
        rows.append((state.phase, state.fraction))

    campaign.propose(on_progress=on_progress)
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and rows == seen  # monotone; the lock row shows it
    training = [f for phase, f in seen if phase == "training"]
    scoring = [f for phase, f in seen if phase == "scoring"]
    assert training[0] == 0.25 and len(training) >= 4  # one value per epoch after the start
    assert all(0.25 < f <= 0.6 for f in training[1:])
    if "fixed_epochs" in regime:
        assert training[-1] == pytest.approx(0.6)  # every epoch run: reaches scoring's value
    assert scoring[0] == pytest.approx(0.6) and len(scoring) >= 2 and scoring[-1] == 0.8
    phases = [phase for phase, _ in seen]
    assert phases.index("scoring") > phases.index("training")
    assert [p for p in dict.fromkeys(phases)] == ["scanning", "decoding", "training",
                                                 "scoring", "acquiring", "writing"]  # fmt: skip


def test_progress_writes_are_throttled_within_a_phase(tmp_path, monkeypatch):
    monkeypatch.setattr(propose_module, "_MIN_INTERVAL_S", 3600.0)
    path, _ = make_pool(tmp_path, size=30)
    campaign = Campaign.init(tmp_path / "p", source=f"npz:{path}", classes="abc", **FAST)
    seen = []
    campaign.propose(on_progress=lambda phase, fraction: seen.append((phase, fraction)))
    phases = [phase for phase, _ in seen]
    # each phase's start, plus a phase's completion (scoring's last chunk) at most
    assert len(seen) <= 2 * len(set(phases)) and phases.count("scanning") == 1
