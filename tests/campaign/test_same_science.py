"""A campaign whose annotator answers the true labels picks exactly what ``batchbald run`` picks
with the same seed and settings (the run configured with the campaign's training regime:
``validation_size = 0``), through the held-out regime's switch at 50 labels: for the paper's
CNN on images, and for an MLP and a deep ensemble on a pool of embeddings."""

from __future__ import annotations

import json

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


def _features_pool(tmp_path):
    """120 rows of 8-d features (3 Gaussian classes): an unlabelled .npy for the campaign, an
    .npz with the labels for the run."""
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 120)
    features = (rng.normal(size=(3, 8))[labels] + rng.normal(size=(120, 8))).astype(np.float32)
    np.save(tmp_path / "unlabelled.npy", features)
    path = tmp_path / "labelled.npz"
    np.savez(path, features=features, labels=labels, class_names=np.array(["a", "b", "c"]))
    return path, labels


def _run_picks(tmp_path, spec: str, method: str, model="mnist_cnn", k=6):
    config = {
        "name": "same_science",
        "seed": 5,
        "model": model,
        "data": {"source": spec, "test_source": spec, "initial": "none", "validation_size": 0},
        "training": TRAINING,
        "scoring": {"k": k, "test_k": min(k, 10)},
        "stop": {"label_budget": ROUNDS * BATCH},
        "methods": [{"acquirer": method, "batch_size": BATCH, "name": method}],
    }
    payload = run_trial(TrialSpec(config, method, 0, str(tmp_path / "runs")))
    steps = [step["acquired"] for step in payload["steps"] if step["acquired"]["indices"]]
    return [(step["indices"], step["scores"]) for step in steps]


def _campaign_picks(tmp_path, spec: str, method: str, truth, model="mnist_cnn", k=6):
    campaign = Campaign.init(
        tmp_path / "project", source=spec, classes=["a", "b", "c"], method=method,
        batch_size=BATCH, seed=5, k=k, training=TRAINING, model=model,
    )  # fmt: skip
    picks = []
    for _ in range(ROUNDS):
        round_ = campaign.propose()
        rows = [int(item_id[4:]) for item_id in round_.item_ids]
        picks.append((rows, [item.score for item in round_.items]))
        for item_id, row in zip(round_.item_ids, rows, strict=True):
            campaign.record(item_id, "abc"[truth[row]], "simulated")
    regimes = [m["regime"] for m in _model_metrics(campaign)]
    assert regimes[-1] == "held-out" and "fixed" in regimes
    return picks


def _model_metrics(campaign):
    from sqlalchemy import select

    from batchbald.campaign.schema import models

    with campaign.store.begin() as connection:
        rows = connection.execute(select(models.c.metrics).order_by(models.c.version)).all()
    return [json.loads(row.metrics) for row in rows]


def _assert_same(run, campaign):
    assert len(run) == len(campaign) == ROUNDS
    for (run_rows, run_scores), (rows, scores) in zip(run, campaign, strict=True):
        assert rows == run_rows
        assert scores == run_scores  # bitwise: one code path


@pytest.mark.slow
def test_campaign_picks_what_run_picks(tmp_path, method="batchbald"):
    path, truth = _pool(tmp_path)
    run = _run_picks(tmp_path, f"npz:{path}", method)
    campaign = _campaign_picks(tmp_path, f"npz:{tmp_path / 'unlabelled.npz'}", method, truth)
    _assert_same(run, campaign)


@pytest.mark.parametrize(
    ("model", "k"),
    [
        ({"kind": "embeddings_mlp", "hidden": 16}, 6),
        ({"kind": "ensemble", "members": 3, "member": "mlp", "hidden": 8, "workers": 2}, 3),
    ],
    ids=["embeddings_mlp", "ensemble"],
)
def test_campaign_over_embeddings_picks_what_run_picks(tmp_path, model, k):
    path, truth = _features_pool(tmp_path)
    # BALD keeps it fast; the acquirers are shared code, the model path is what is tested here.
    run = _run_picks(tmp_path, f"features:{path}", "bald", model=model, k=k)
    unlabelled = str(tmp_path / "unlabelled.npy")  # a bare .npy path is a features pool
    campaign = _campaign_picks(tmp_path, unlabelled, "bald", truth, model=model, k=k)
    _assert_same(run, campaign)
