"""Property tests (hypothesis) for the per-point scores and BatchBALD.

Data are drawn from seeds rather than element by element: continuous random log-probabilities
have no ties with probability one, which keeps "argmax" and "permutation" properties well defined.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from batchbald.acquisition import bald, batchbald, conditional_entropy, entropy
from batchbald.errors import BatchBALDWarning

SLACK = 1e-9

shapes = st.tuples(
    st.integers(0, 2**31 - 1),  # seed
    st.integers(1, 8),  # N
    st.integers(2, 6),  # K
    st.integers(2, 4),  # C
)


def make(seed: int, n: int, k: int, c: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    scale = 0.2 + 3 * torch.rand(1, generator=generator, dtype=torch.float64)
    logits = scale * torch.randn(n, k, c, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1)


def quiet_batchbald(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchBALDWarning)
        return batchbald(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(shapes)
def test_bald_is_between_zero_and_log_c(shape):
    log_probs = make(*shape)
    scores = bald(log_probs)
    assert (scores >= 0).all()
    assert (scores <= math.log(shape[3]) + SLACK).all()
    assert torch.allclose(scores, entropy(log_probs) - conditional_entropy(log_probs), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_bald_is_zero_when_all_samples_agree(shape):
    seed, n, k, c = shape
    log_probs = make(seed, n, 1, c).expand(n, k, c)
    assert bald(log_probs).abs().max() < 1e-12


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(1, 4))
def test_batchbald_at_most_sum_of_bald(shape, batch_size):
    log_probs = make(*shape)
    batch_size = min(batch_size, shape[1])
    result = quiet_batchbald(log_probs, batch_size, num_samples=shape[3] ** batch_size)
    assert result.scores[-1] <= bald(log_probs)[result.indices].sum() + SLACK
    # Cumulative joint MI is non-decreasing (monotone) and never exceeds log K.
    assert (result.scores.diff() >= -SLACK).all()
    assert result.scores[-1] <= math.log(shape[2]) + SLACK


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_batch_size_one_picks_argmax_bald(shape):
    log_probs = make(*shape)
    result = quiet_batchbald(log_probs, 1)
    assert result.indices.item() == int(torch.argmax(bald(log_probs)))
    assert result.scores.item() == bald(log_probs).max().item()


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(1, 4))
def test_permuting_the_pool_permutes_the_picks(shape, batch_size):
    seed, n, _, c = shape
    log_probs = make(*shape)
    batch_size = min(batch_size, n)
    permutation = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    original = quiet_batchbald(log_probs, batch_size, num_samples=c**batch_size)
    permuted = quiet_batchbald(log_probs[permutation], batch_size, num_samples=c**batch_size)
    assert permutation[permuted.indices].tolist() == original.indices.tolist()
    np.testing.assert_allclose(permuted.scores.numpy(), original.scores.numpy(), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(shapes, st.integers(1, 5), st.sampled_from([6_000, 20_000, 2**30]))
def test_same_generator_same_picks_any_budget(shape, batch_size, budget):
    seed, n, _, _ = shape
    log_probs = make(*shape)
    batch_size = min(batch_size, n)

    def run(max_memory_bytes):
        generator = torch.Generator().manual_seed(seed)
        return quiet_batchbald(
            log_probs,
            batch_size,
            num_samples=7,
            generator=generator,
            max_memory_bytes=max_memory_bytes,
        )

    first, second = run(budget), run(2**30)
    assert first.indices.tolist() == second.indices.tolist()
    np.testing.assert_allclose(first.scores.numpy(), second.scores.numpy(), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(1, 4))
def test_zero_probabilities_give_finite_scores(shape, batch_size):
    seed, n, k, c = shape
    log_probs = make(*shape).clone()
    mask = torch.rand(n, k, c, generator=torch.Generator().manual_seed(seed)) < 0.3
    mask[..., 0] = False  # keep at least one class possible per row
    log_probs[mask] = -math.inf
    log_probs = torch.log_softmax(log_probs, dim=-1)
    for score in (bald, entropy, conditional_entropy):
        assert torch.isfinite(score(log_probs)).all()
    result = quiet_batchbald(log_probs, min(batch_size, n), num_samples=5)
    assert torch.isfinite(result.scores).all()
