"""EPIG and PowerEPIG against a brute-force reference written from the definition.

Reference: p(y, y*) = (1/K) Σ_k p_k(y) p_k(y*) enumerated over every (y, y*) with numpy, then
I[y; y*] = Σ p(y, y*) log p(y, y*) / (p(y) p(y*)) and the mean over target points (Bickford
Smith et al. 2023, eqs. 3 and 7). Tolerance 1e-10 in float64: both sides are exact sums of at
most C² terms, so only rounding separates them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from batchbald.acquisition import ParameterError, bald, epig, get_acquirer
from batchbald.acquisition.baseline_acquirers import pool_targets
from batchbald.errors import InvalidInputError, SingleSampleWarning

shapes = st.tuples(
    st.integers(0, 2**31 - 1),  # seed
    st.integers(1, 6),  # N
    st.integers(1, 5),  # T
    st.integers(2, 6),  # K
    st.integers(2, 4),  # C
)


def make(seed: int, n: int, k: int, c: int, dtype=torch.float64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    scale = 0.2 + 3 * torch.rand(1, generator=generator, dtype=torch.float64)
    return (
        (scale * torch.randn(n, k, c, generator=generator, dtype=torch.float64))
        .log_softmax(-1)
        .to(dtype)
    )


def brute_force_epig(pool: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """EPIG from the definition, one (y, y*) pair at a time."""
    p, q = pool.exp().numpy(), target.exp().numpy()
    scores = np.zeros(len(p))
    for n in range(len(p)):
        for t in range(len(q)):
            information = 0.0
            for y in range(p.shape[2]):
                for y_star in range(q.shape[2]):
                    joint = np.mean(p[n, :, y] * q[t, :, y_star])
                    marginals = p[n, :, y].mean() * q[t, :, y_star].mean()
                    if joint > 0:
                        information += joint * math.log(joint / marginals)
            scores[n] += information / len(q)
    return scores


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_matches_brute_force(shape):
    seed, n, t, k, c = shape
    pool, target = make(seed, n, k, c), make(seed + 1, t, k, c)
    np.testing.assert_allclose(
        epig(pool, target).numpy(), brute_force_epig(pool, target), atol=1e-10
    )


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_float32_joint_matches_brute_force_to_float32_precision(shape):
    """``dtype = float32``: the joint and its entr in float32, sums in float64; 1e-5 nats."""
    seed, n, t, k, c = shape
    pool, target = make(seed, n, k, c), make(seed + 1, t, k, c)
    scores = epig(pool, target, dtype=torch.float32)
    assert scores.dtype == torch.float64
    np.testing.assert_allclose(scores.numpy(), brute_force_epig(pool, target), atol=1e-5)


@pytest.mark.parametrize("max_memory_bytes", [4, 4 * 50, 4 * 1000])
def test_float32_chunking_changes_results_only_by_rounding(max_memory_bytes):
    pool, target = make(0, 17, 6, 5), make(1, 11, 6, 5)
    reference = epig(pool, target, max_memory_bytes=2**30, dtype="float32")
    chunked = epig(pool, target, max_memory_bytes=max_memory_bytes, dtype="float32")
    torch.testing.assert_close(chunked, reference, rtol=0, atol=1e-5)


def test_a_bad_dtype_is_named():
    pool = make(0, 4, 3, 2)
    with pytest.raises(InvalidInputError, match=r"^dtype must be torch\.float32 or torch\.float64"):
        epig(pool, pool, dtype=torch.float16)
    with pytest.raises(ParameterError, match=r'^dtype must be "float32" or "float64"'):
        get_acquirer("epig", dtype="half")


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_nonnegative_and_at_most_min_log_c_log_k(shape):
    seed, n, t, k, c = shape
    scores = epig(make(seed, n, k, c), make(seed + 1, t, k, c))
    assert (scores >= 0).all()
    assert (scores <= min(math.log(c), math.log(k)) + 1e-9).all()


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_zero_when_all_samples_agree(shape):
    seed, n, t, k, c = shape
    pool = make(seed, n, 1, c).expand(n, k, c)
    target = make(seed + 1, t, k, c)  # the target may disagree: y carries no information
    assert epig(pool, target).abs().max() < 1e-12
    assert epig(make(seed, n, k, c), make(seed + 1, t, 1, c).expand(t, k, c)).abs().max() < 1e-12


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_invariant_to_permuting_targets_and_equivariant_in_pool(shape):
    seed, n, t, k, c = shape
    pool, target = make(seed, n, k, c), make(seed + 1, t, k, c)
    scores = epig(pool, target)
    generator = torch.Generator().manual_seed(seed)
    target_order, pool_order = (
        torch.randperm(t, generator=generator),
        torch.randperm(n, generator=generator),
    )
    torch.testing.assert_close(epig(pool, target[target_order]), scores, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        epig(pool[pool_order], target), scores[pool_order], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("max_memory_bytes", [8, 8 * 50, 8 * 1000, 2**20])
def test_chunking_does_not_change_results(max_memory_bytes):
    # Only BLAS rounding of the K-sum can differ between slicings: ≤ 1e-12 nats in float64.
    pool, target = make(0, 17, 6, 5), make(1, 11, 6, 5)
    reference = epig(pool, target, max_memory_bytes=2**30)
    chunked = epig(pool, target, max_memory_bytes=max_memory_bytes)
    torch.testing.assert_close(chunked, reference, rtol=0, atol=1e-12)


def test_float32_input_close_to_float64():
    pool, target = make(2, 20, 8, 4), make(3, 10, 8, 4)
    np.testing.assert_allclose(
        epig(pool.float(), target.float()).numpy(), epig(pool, target).numpy(), atol=1e-5
    )


def test_target_equal_to_pool_point_gives_at_most_bald():
    # I[y; y*] ≤ I[y; ω] (data processing: y — ω — y*), with equality never exceeded.
    pool = make(4, 12, 6, 3)
    assert (epig(pool, pool) <= bald(pool) + 1e-12).all()


def test_single_sample_warns_and_is_zero():
    pool = make(5, 4, 1, 3)
    with pytest.warns(SingleSampleWarning):
        assert epig(pool, pool).abs().max() < 1e-12


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (make(0, 3, 5, 3), r"target_log_probs_T_K_C must use the same K posterior samples and C"),
        (make(0, 3, 4, 4), r"same K posterior samples and C classes .* got \(4, 4\)"),
        (make(0, 3, 4, 3)[0], r"target_log_probs_T_K_C must be 3-D"),
        (torch.randn(3, 4, 3), r"rows of target_log_probs_T_K_C must be normalised"),
    ],
)
def test_rejects_bad_target(target, message):
    with pytest.raises(InvalidInputError, match=message):
        epig(make(1, 5, 4, 3), target)


def test_registry_epig_is_top_b_of_epig_on_pool_targets():
    pool = make(6, 30, 6, 4)
    result = get_acquirer("epig", num_target_samples=10)(
        pool, 4, generator=torch.Generator().manual_seed(3)
    )
    _, target = pool_targets(pool, 10, torch.Generator().manual_seed(3))
    assert (
        result.indices.tolist() == torch.argsort(epig(pool, target), descending=True)[:4].tolist()
    )
    assert len(target) == 10


def test_registry_uses_whole_pool_when_targets_exceed_it():
    pool = make(7, 8, 5, 3)
    result = get_acquirer("epig", num_target_samples=100)(pool, 2)
    assert (
        result.scores.tolist() == torch.sort(epig(pool, pool), descending=True).values[:2].tolist()
    )


def test_power_epig_with_infinite_coldness_is_top_b():
    pool = make(8, 25, 5, 3)
    top = get_acquirer("epig", num_target_samples=25)(pool, 5)
    power = get_acquirer("power_epig", num_target_samples=25, coldness=math.inf)(pool, 5)
    assert power.indices.tolist() == top.indices.tolist()


def test_power_epig_samples_proportionally_to_epig():
    # Batch size 1: the pick is n with probability EPIG_n / Σ EPIG. 2,000 draws; each frequency
    # is within 4 binomial standard deviations (sqrt(p (1 - p) / 2000) ≤ 0.0112).
    pool = make(9, 4, 6, 3)
    probabilities = epig(pool, pool) / epig(pool, pool).sum()
    acquirer = get_acquirer("power_epig", num_target_samples=4, coldness=1.0)
    generator = torch.Generator().manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picks = [int(acquirer(pool, 1, generator=generator).indices[0]) for _ in range(2000)]
    frequencies = torch.bincount(torch.tensor(picks), minlength=4).double() / 2000
    assert (frequencies - probabilities).abs().max() < 4 * 0.0112
