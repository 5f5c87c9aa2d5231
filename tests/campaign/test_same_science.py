"""A campaign whose annotator answers the true labels picks exactly what ``batchbald run`` picks
with the same seed and settings (the run configured with the campaign's training regime:
``validation_size = 0``), through the held-out regime's switch at 50 labels."""

from __future__ import annotations

import numpy as np
import pytest

from batchbald.campaign import Campaign
from batchbald.experiments.trial import TrialSpec, run_trial

TRAINING = {"epoch_size": 16, "batch_size": 16, "max_epochs": 3, "patience": 1}
ROUNDS, BATCH = 6, 10


def _pool(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 90)
    images = rng.integers(0, 90, (90, 28, 28)).astype(np.uint8)
    for row, label in enumerate(labels):
        images[row, 9 * label : 9 * label + 9, :] += 120
    np.savez(tmp_path / "unlabelled.npz", images=images)
    path = tmp_path / "labelled.npz"  # the run's oracle reads these labels
    np.savez(path, images=images, labels=labels, class_names=np.array(["a", "b", "c"]))
    return path, labels


def _run_picks(tmp_path, spec: str, method: str) -> list[tuple[list[int], list[float]]]:
    config = {
        "name": "same_science",
        "seed": 5,
        "model": "mnist_cnn",
        "data": {"source": spec, "test_source": spec, "initial": "none", "validation_size": 0},
        "training": TRAINING,
        "scoring": {"k": 6},
        "stop": {"label_budget": ROUNDS * BATCH},
        "methods": [{"acquirer": method, "batch_size": BATCH, "name": method}],
    }
    payload = run_trial(TrialSpec(config, method, 0, str(tmp_path / "runs")))
    steps = [step["acquired"] for step in payload["steps"] if step["acquired"]["indices"]]
    return [(step["indices"], step["scores"]) for step in steps]


def _campaign_picks(tmp_path, spec: str, method: str, truth) -> list[tuple[list[int], list[float]]]:
    campaign = Campaign.init(
        tmp_path / "project", source=spec, classes=["a", "b", "c"], method=method,
        batch_size=BATCH, seed=5, k=6, training=TRAINING,
    )  # fmt: skip
    picks = []
    for _ in range(ROUNDS):
        round_ = campaign.propose()
        rows = [int(item_id[4:]) for item_id in round_.item_ids]
        picks.append((rows, [item.score for item in round_.items]))
        for item_id, row in zip(round_.item_ids, rows, strict=True):
            campaign.record(item_id, "abc"[truth[row]], "simulated")
    regimes = [m["regime"] for m in _model_regimes(campaign)]
    assert regimes[-1] == "held-out" and "fixed" in regimes
    return picks


def _model_regimes(campaign):
    import json

    from sqlalchemy import select

    from batchbald.campaign.schema import models

    with campaign.store.begin() as connection:
        rows = connection.execute(select(models.c.metrics).order_by(models.c.version)).all()
    return [json.loads(row.metrics) for row in rows]


@pytest.mark.slow
def test_campaign_picks_what_run_picks(tmp_path, method="batchbald"):
    path, truth = _pool(tmp_path)
    spec = f"npz:{path}"
    run = _run_picks(tmp_path, spec, method)
    campaign = _campaign_picks(tmp_path, f"npz:{tmp_path / 'unlabelled.npz'}", method, truth)
    assert len(run) == len(campaign) == ROUNDS
    for (run_rows, run_scores), (rows, scores) in zip(run, campaign, strict=True):
        assert rows == run_rows
        assert scores == run_scores  # bitwise: one code path
