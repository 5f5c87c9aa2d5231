"""Per-point scores against an independent numpy reference, written from the definitions.

Tolerances: float64 inputs are computed in float64 throughout, so they must agree to 1e-12;
float32 inputs keep float32 terms and per-point sums (scores.py docstring), so they are compared
with the float64 reference of the same (float32-rounded) log-probabilities to 1e-5 nats.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from batchbald.acquisition import bald, conditional_entropy, entropy, mean_std, variation_ratios
from batchbald.acquisition import scores as scores_module

F64_TOLERANCE = 1e-12
F32_TOLERANCE = 1e-5


def reference(log_probs_N_K_C: np.ndarray) -> dict[str, np.ndarray]:
    """Scores from their textbook definitions, probability space, float64, loops over points."""
    probs = np.exp(log_probs_N_K_C.astype(np.float64))
    out: dict[str, list[float]] = {name: [] for name in SCORES}
    for probs_K_C in probs:
        mean_C = probs_K_C.mean(axis=0)
        h_mean = -sum(p * np.log(p) for p in mean_C if p > 0)
        h_each = [-sum(p * np.log(p) for p in row if p > 0) for row in probs_K_C]
        expected = float(np.mean(h_each))
        out["entropy"].append(h_mean)
        out["conditional_entropy"].append(expected)
        out["bald"].append(max(h_mean - expected, 0.0))
        out["variation_ratios"].append(1.0 - mean_C.max())
        out["mean_std"].append(float(np.mean(probs_K_C.std(axis=0))))  # population std over K
    return {name: np.array(values) for name, values in out.items()}


SCORES = {
    "entropy": entropy,
    "conditional_entropy": conditional_entropy,
    "bald": bald,
    "variation_ratios": variation_ratios,
    "mean_std": mean_std,
}


def pool(seed: int, n: int = 50, k: int = 7, c: int = 5) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    scale = 0.5 + 3 * torch.rand(n, 1, 1, generator=generator, dtype=torch.float64)
    return (scale * torch.randn(n, k, c, generator=generator, dtype=torch.float64)).log_softmax(-1)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_float64_scores_equal_reference(name):
    log_probs = pool(0)
    expected = reference(log_probs.numpy())[name]
    np.testing.assert_allclose(SCORES[name](log_probs).numpy(), expected, atol=F64_TOLERANCE)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_float32_scores_close_to_reference(name):
    log_probs = pool(1, n=200, k=100, c=10).float()
    expected = reference(log_probs.numpy())[name]
    result = SCORES[name](log_probs)
    assert result.dtype == torch.float64
    np.testing.assert_allclose(result.numpy(), expected, atol=F32_TOLERANCE)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_zero_probabilities_follow_the_reference(name):
    log_probs = pool(2).clone()
    log_probs[::3, :, 0] = -torch.inf  # class 0 impossible for every third point
    log_probs = log_probs.log_softmax(-1)
    expected = reference(log_probs.numpy())[name]
    np.testing.assert_allclose(SCORES[name](log_probs).numpy(), expected, atol=F64_TOLERANCE)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_slicing_of_the_pool_does_not_change_scores(name, monkeypatch):
    log_probs = pool(3, n=101).float()
    whole = SCORES[name](log_probs)
    # Slices of 3 points (7 · 5 elements each) instead of millions of elements.
    monkeypatch.setattr(scores_module.map_checked, "__kwdefaults__", {"max_elements": 3 * 7 * 5})
    sliced = SCORES[name](log_probs)
    assert torch.equal(whole, sliced)


@pytest.mark.parametrize("name", sorted(SCORES))
def test_non_contiguous_input_gives_the_same_scores(name):
    log_probs = pool(4)
    strided = (
        log_probs.transpose(0, 1).contiguous().transpose(0, 1)
    )  # same values, [K, N, C] memory
    assert not strided.is_contiguous()
    assert torch.equal(SCORES[name](strided), SCORES[name](log_probs))
