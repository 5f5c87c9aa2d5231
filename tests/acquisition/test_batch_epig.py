"""Greedy BatchEPIG against brute-force enumeration of every batch labelling.

Reference: p(y_B, y*) = (1/K) Σ_k Π_i p_k(y_i) p_k(y*) over all C^|B| · C label configurations,
I[y_B; y*] from its definition, averaged over targets; the greedy reference adds the candidate
maximising it. Exact enumeration (num_samples ≥ C^(b-1)) must agree to 1e-10 in float64.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from batchbald.acquisition import batch_epig, epig
from batchbald.acquisition.batch_epig import batch_gains, extend_labellings
from batchbald.errors import InvalidInputError


def make(seed: int, n: int, k: int, c: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(n, k, c, generator=generator, dtype=torch.float64)).log_softmax(-1)


def brute_force(pool: torch.Tensor, target: torch.Tensor, batch: list[int]) -> float:
    p, q = pool.exp().numpy(), target.exp().numpy()
    total = 0.0
    for t in range(len(q)):
        for labels in itertools.product(range(p.shape[2]), repeat=len(batch)):
            batch_k = np.prod([p[i, :, y] for i, y in zip(batch, labels, strict=True)], axis=0)
            for y_star in range(q.shape[2]):
                joint = np.mean(batch_k * q[t, :, y_star])
                if joint > 0:
                    total += joint * math.log(joint / (batch_k.mean() * q[t, :, y_star].mean()))
    return total / len(q)


@pytest.mark.parametrize(
    ("seed", "n", "t", "k", "c", "b"), [(0, 6, 3, 5, 3, 3), (1, 5, 2, 4, 2, 4)]
)
def test_exact_greedy_matches_brute_force(seed, n, t, k, c, b):
    pool, target = make(seed, n, k, c), make(seed + 100, t, k, c)
    result = batch_epig(pool, target, b, num_samples=c ** (b - 1))
    chosen: list[int] = []
    for step in range(b):
        candidates = [i for i in range(n) if i not in chosen]
        values = [brute_force(pool, target, [*chosen, i]) for i in candidates]
        chosen.append(candidates[int(np.argmax(values))])
        assert result.scores[step].item() == pytest.approx(max(values), abs=1e-10)
    assert result.indices.tolist() == chosen


def test_first_pick_is_argmax_epig_and_batch_of_one_is_top_epig():
    pool, target = make(2, 20, 6, 4), make(3, 7, 6, 4)
    scores = epig(pool, target)
    result = batch_epig(pool, target, 1)
    assert result.indices.tolist() == [int(scores.argmax())]
    assert result.scores[0].item() == pytest.approx(scores.max().item(), abs=1e-12)


def test_scores_increase_and_stay_below_log_c():
    pool, target = make(4, 15, 8, 3), make(5, 6, 8, 3)
    scores = batch_epig(pool, target, 5, num_samples=10_000).scores
    assert (scores[1:] >= scores[:-1] - 1e-12).all()
    assert scores[-1] <= math.log(3) + 1e-12


def test_chunking_does_not_change_results():
    pool, target = make(6, 9, 5, 3), make(7, 4, 5, 3)
    reference = batch_epig(pool, target, 3, num_samples=9)
    chunked = batch_epig(pool, target, 3, num_samples=9, max_memory_bytes=8)
    assert chunked.indices.tolist() == reference.indices.tolist()
    torch.testing.assert_close(chunked.scores, reference.scores, rtol=0, atol=1e-12)


def test_sampled_labellings_estimate_the_exact_gains():
    # |B| = 3, C = 3: 27 labellings exactly. R = 200 independent estimates from S = 5 sampled
    # labellings each: their mean must lie within 4 standard errors (empirical std / sqrt(R))
    # of the exact gains: the estimator is unbiased in the labelling expectation.
    pool, target = make(8, 10, 6, 3), make(9, 4, 6, 3)
    probs = pool.exp()
    start = torch.ones(1, dtype=torch.float64), torch.full((1, 6), 1 / 6, dtype=torch.float64)

    def gains(num_samples, generator):
        weights, posterior = start
        for index in (0, 1, 2):
            weights, posterior = extend_labellings(
                weights, posterior, probs[index], num_samples, generator
            )
        return len(weights), batch_gains(pool, target, weights, posterior, 2**20)

    count, exact = gains(10**6, None)
    assert count == 27
    generator = torch.Generator().manual_seed(0)
    estimates = torch.stack([gains(5, generator)[1] for _ in range(200)])
    error = (estimates.mean(dim=0) - exact).abs()
    assert (error <= 4 * estimates.std(dim=0) / math.sqrt(200) + 1e-12).all()


def test_reproducible_with_generator_when_sampling():
    pool, target = make(10, 12, 5, 4), make(11, 3, 5, 4)
    first = batch_epig(pool, target, 4, num_samples=8, generator=torch.Generator().manual_seed(1))
    second = batch_epig(pool, target, 4, num_samples=8, generator=torch.Generator().manual_seed(1))
    assert first.indices.tolist() == second.indices.tolist()
    assert torch.equal(first.scores, second.scores)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_samples": 0}, r"num_samples must be an int ≥ 1; got 0"),
        ({"generator": 3}, r"generator must be a torch.Generator or None; got int"),
        ({"max_memory_bytes": -1}, r"max_memory_bytes must be a positive number of bytes"),
    ],
)
def test_rejects_bad_options(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        batch_epig(make(0, 5, 4, 3), make(1, 2, 4, 3), 2, **kwargs)


def test_rejects_target_with_other_samples():
    with pytest.raises(InvalidInputError, match=r"same K posterior samples"):
        batch_epig(make(0, 5, 4, 3), make(1, 2, 5, 3), 2)
