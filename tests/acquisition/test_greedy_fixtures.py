"""The greedy engine against its recorded picks, and lazy against full greedy in both phases.

``fixtures/greedy_picks_small.json`` holds the picks and scores of the engine before the
redesign (commit aafd530) on test-sized versions of the benchmark inputs
(``fixtures/greedy_cases.py``). The exact phase's picks and scores must be unchanged (scores to
1e-10 in float64); in the sampled phase the old engine's full greedy is the reference: its lazy
path used last step's gains (from other draws) as bounds, which could change its picks, and the
engine now keeps valid bounds only, so lazy and full greedy agree in both phases.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from batchbald.acquisition import batch_eig, batch_evaluation_bald, batchbald

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_spec = importlib.util.spec_from_file_location("greedy_cases", FIXTURES / "greedy_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
RECORDED = json.loads((FIXTURES / "greedy_picks_small.json").read_text())
POOLS = {name: cases.pool(spec) for name, spec in cases.SMALL.items()}
#: Full greedy on case 2 (N = 6,000, exact phase only) is the slowest; its lazy run is checked.
FULL_RUNS = [name for name in cases.SMALL if name not in ("case2", "case4")]


def check_against(recorded: dict, new: dict, exact_steps: int, *, sampled_scores: bool) -> None:
    """Exact-phase picks and scores (1e-10); sampled-phase picks (and scores where asked)."""
    assert new["indices"] == recorded["indices"]
    old_scores, new_scores = np.array(recorded["scores"]), np.array(new["scores"])
    np.testing.assert_allclose(new_scores[:exact_steps], old_scores[:exact_steps], atol=1e-10)
    if sampled_scores:
        np.testing.assert_allclose(new_scores, old_scores, atol=1e-9)


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
@pytest.mark.parametrize("name", list(cases.SMALL))
def test_lazy_greedy_reproduces_the_recorded_picks(name):
    spec, recorded = cases.SMALL[name], RECORDED[name]
    assert cases.digest(POOLS[name][0]) == recorded["digest"]
    new = cases.run(spec, POOLS[name], lazy=True)
    # The old lazy picks equal the old full greedy's on every recorded case; the reference for
    # the sampled phase is full greedy's (see the module docstring).
    reference = recorded.get("full", recorded["lazy"])
    assert recorded["lazy"]["indices"] == reference["indices"]
    check_against(reference, new, recorded["exact_steps"], sampled_scores=False)
    # Lazy scores are the same gains as full greedy's: to 1e-10 in the exact phase.
    check_against(recorded["lazy"], new, recorded["exact_steps"], sampled_scores=False)


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
@pytest.mark.parametrize("name", FULL_RUNS)
def test_full_greedy_reproduces_the_recorded_picks_and_scores(name):
    recorded = RECORDED[name]
    new = cases.run(cases.SMALL[name], POOLS[name], lazy=False)
    check_against(recorded["full"], new, recorded["exact_steps"], sampled_scores=True)


def generator(seed: int) -> torch.Generator:
    """A seeded CPU generator."""
    return torch.Generator().manual_seed(seed)


def random_pool(seed, num_points, num_samples, num_classes, duplicates=0):
    """Random log-probs ``[N, K, C]``; the last ``duplicates`` points copy the first ones."""
    logits = 2.0 * torch.randn(num_points, num_samples, num_classes, generator=generator(seed))
    log_probs = logits.double().log_softmax(-1)
    if duplicates:
        log_probs[-duplicates:] = log_probs[:duplicates]
    return log_probs


POOL_KINDS = {
    "random": lambda: random_pool(0, 300, 20, 10),
    "duplicates": lambda: random_pool(1, 300, 20, 10, duplicates=100),
    "near_duplicates": lambda: cases.synthetic_log_probs(600, 20, 10, seed=3).double(),
}


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
@pytest.mark.parametrize("kind", list(POOL_KINDS))
@pytest.mark.parametrize("num_samples", [10**4, 300])  # exact phase throughout; sampled from 2
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lazy_equals_full_batchbald_in_both_phases(kind, num_samples, dtype):
    log_probs = POOL_KINDS[kind]()
    results = [
        batchbald(
            log_probs, 6, num_samples=num_samples, dtype=dtype, lazy=lazy, generator=generator(5)
        )
        for lazy in (True, False)
    ]
    assert results[0].indices.tolist() == results[1].indices.tolist()
    atol = 1e-10 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(results[0].scores, results[1].scores, rtol=0, atol=atol)


@pytest.mark.parametrize("rule", [batch_eig, batch_evaluation_bald])
@pytest.mark.parametrize("kind", ["random", "near_duplicates"])
@pytest.mark.parametrize("num_samples", [10**4, 300])
def test_lazy_equals_full_evaluation_rules_in_both_phases(rule, kind, num_samples):
    train = POOL_KINDS[kind]()
    evaluation = (1.2 * train.exp().clamp_min(1e-30).log()).log_softmax(-1)  # a sharper model
    results = [
        rule(train, evaluation, 5, num_samples=num_samples, lazy=lazy, generator=generator(5))
        for lazy in (True, False)
    ]
    assert results[0].indices.tolist() == results[1].indices.tolist()
    torch.testing.assert_close(results[0].scores, results[1].scores, rtol=0, atol=1e-10)
