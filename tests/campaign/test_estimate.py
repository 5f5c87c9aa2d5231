"""The accuracy estimate (Wilson interval) and the held-out choice of the labels-only regime."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from batchbald.campaign.reports import accuracy_estimate, wilson_interval
from batchbald.training.labels_only import LabelsOnlyRegime, held_out_mask


@pytest.mark.parametrize(("correct", "total"), [(0, 5), (3, 5), (8, 11), (11, 11), (170, 200)])
def test_wilson_interval_inverts_the_score_test(correct, total):
    """Brute force: the interval is every p whose score test accepts p̂ (|p̂ - p| ≤ z·σ(p))."""
    grid = np.linspace(0, 1, 200_001)
    phat = correct / total
    accepted = grid[np.abs(phat - grid) <= 1.96 * np.sqrt(grid * (1 - grid) / total)]
    low, high = wilson_interval(correct, total)
    assert low == pytest.approx(accepted.min(), abs=1e-5)
    assert high == pytest.approx(accepted.max(), abs=1e-5)


def test_estimate_without_held_out_labels_says_why():
    estimate = accuracy_estimate({"regime": "fixed", "holdout_size": 0})
    assert estimate["accuracy"] is None and "fixed regime" in estimate["reason"]
    held = accuracy_estimate({"regime": "held-out", "holdout_size": 11, "holdout_correct": 8})
    assert held["n"] == 11 and math.isclose(held["accuracy"], 8 / 11)


def test_held_out_items_stay_held_out_as_the_set_grows():
    keys = torch.randint(0, 2**62, (5000,), generator=torch.Generator().manual_seed(0))
    full = held_out_mask(keys, 0.2)
    assert abs(full.float().mean().item() - 0.2) < 0.02
    assert torch.equal(held_out_mask(keys[:1000], 0.2), full[:1000])
    assert torch.equal(held_out_mask(keys.flip(0), 0.2), full.flip(0))


@pytest.mark.parametrize(
    ("field", "value"), [("holdout_fraction", 1.0), ("min_holdout_labels", 1), ("fixed_epochs", 0)]
)
def test_bad_regime_is_named(field, value):
    with pytest.raises(ValueError, match=field):
        LabelsOnlyRegime(**{field: value})
