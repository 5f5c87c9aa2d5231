"""Fixtures shared by the experiments tests."""

from __future__ import annotations

import pytest

from batchbald.experiments.results import TrialResult

from .factories import make_trial


@pytest.fixture
def two_methods() -> list[TrialResult]:
    """Two methods × three trials with distinct learning curves."""
    trials = []
    for i, shift in enumerate([0.0, 0.02, -0.02]):
        curve = [min(1.0, 0.5 + 0.05 * t + shift) for t in range(10)]
        trials.append(make_trial(curve, method="batchbald_b10", trial=i))
        slow = [min(1.0, 0.5 + 0.03 * t + shift) for t in range(10)]
        trials.append(make_trial(slow, method="bald_b10", trial=i, seconds=0.5))
    return trials
