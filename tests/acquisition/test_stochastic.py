"""Stochastic acquisition: Gumbel-top-k sampling, ThompsonBALD, UniformTopBALD."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

from batchbald.acquisition import (
    bald,
    entropy,
    evaluation_bald,
    get_acquirer,
    mean_std,
    score_acquirer,
    top_k,
)
from batchbald.acquisition.stochastic import (
    POWER_EPSILON,
    _fill_keys_numpy,
    _fill_keys_torch,
    points_at_ranks,
    stochastic_batch,
    thompson_bald,
    uniform_top_bald,
)
from batchbald.errors import InvalidInputError

SCORES = torch.tensor([0.1, 0.5, 1.0, 2.0, 3.0], dtype=torch.float64)
NUM_DRAWS = 4000
# Upper 0.1% points of the chi-square distribution (scipy.stats.chi2.ppf(0.999, df)). Draws are
# seeded, so each test is deterministic; a correct sampler fails one seed with probability 0.001.
CHI2_999 = {4: 18.467, 5: 20.515, 11: 31.264}


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_log_probs(num_points: int, num_samples: int, num_classes: int, seed: int = 0):
    logits = torch.randn(num_points, num_samples, num_classes, generator=generator(seed)) * 2
    return logits.double().log_softmax(-1)


def chi_square(counts: np.ndarray, probs: np.ndarray) -> float:
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def first_pick_counts(scores, mode, coldness, num_draws=NUM_DRAWS) -> np.ndarray:
    gen = generator(123)
    counts = np.zeros(len(scores))
    for _ in range(num_draws):
        result = stochastic_batch(scores, 1, mode=mode, coldness=coldness, generator=gen)
        counts[int(result.indices[0])] += 1
    return counts


def expected_probs(scores: torch.Tensor, mode: str, coldness: float) -> np.ndarray:
    s = scores.numpy()
    if mode == "power":
        weights = np.maximum(s, POWER_EPSILON) ** coldness
    elif mode == "softmax":
        weights = np.exp(coldness * (s - s.max()))
    else:
        ranks = np.empty(len(s))
        ranks[np.argsort(-s, kind="stable")] = np.arange(1, len(s) + 1)
        weights = ranks ** (-coldness)
    return weights / weights.sum()


@pytest.mark.parametrize(
    ("mode", "coldness"), [("power", 1.0), ("power", 2.0), ("softmax", 1.0), ("softrank", 1.5)]
)
def test_single_pick_frequencies_match_the_target_distribution(mode, coldness):
    counts = first_pick_counts(SCORES, mode, coldness)
    statistic = chi_square(counts, expected_probs(SCORES, mode, coldness))
    assert statistic < CHI2_999[len(SCORES) - 1], (counts, statistic)


def test_coldness_zero_is_uniform_even_with_negative_scores():
    scores = torch.tensor([-3.0, 0.0, 1.0, 100.0, 2.0], dtype=torch.float64)
    counts = first_pick_counts(scores, "power", 0.0)
    assert chi_square(counts, np.full(5, 0.2)) < CHI2_999[4]


def test_first_two_picks_are_draws_without_replacement():
    """P(first = i, second = j) = p_i p_j / (1 − p_i) for successive draws without replacement."""
    scores = SCORES[1:]
    probs = expected_probs(scores, "power", 1.0)
    gen, counts = generator(7), Counter()
    for _ in range(NUM_DRAWS):
        first, second = stochastic_batch(scores, 2, generator=gen).indices.tolist()
        counts[(first, second)] += 1
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]
    observed = np.array([counts[pair] for pair in pairs], dtype=float)
    pair_probs = np.array([probs[i] * probs[j] / (1 - probs[i]) for i, j in pairs])
    assert chi_square(observed, pair_probs) < CHI2_999[11]


@pytest.mark.parametrize("mode", ["power", "softmax", "softrank"])
@pytest.mark.parametrize("coldness", [1e6, 1e300, math.inf])
def test_huge_coldness_is_top_k_without_overflow(mode, coldness):
    scores = torch.rand(200, generator=generator(1), dtype=torch.float64) * 50
    result = stochastic_batch(scores, 10, mode=mode, coldness=coldness, generator=generator(2))
    expected = top_k(scores, 10)
    assert result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(result.scores, expected.scores)


@pytest.mark.parametrize(
    "kind", ["uniform", "few_values", "all_equal", "signed_zeros_and_extremes", "narrow"]
)
def test_points_at_ranks_equals_a_stable_descending_sort(kind):
    gen = generator(21)
    for _ in range(3):  # pools from 2^17 points use the bucketed path
        num_points = int(torch.randint(2**17, 2**17 + 5000, (1,), generator=gen))
        if kind == "uniform":
            scores = torch.rand(num_points, generator=gen, dtype=torch.float64)
        elif kind == "few_values":
            scores = torch.randint(-2, 3, (num_points,), generator=gen).double()
        elif kind == "all_equal":
            scores = torch.full((num_points,), 0.25, dtype=torch.float64)
        elif kind == "signed_zeros_and_extremes":
            scores = torch.randn(num_points, generator=gen, dtype=torch.float64) * 1e300
            scores[::7], scores[::5], scores[::11] = -0.0, 0.0, -1e-310
        else:
            scores = 0.3 + 1e-9 * torch.randn(num_points, generator=gen, dtype=torch.float64)
        ranks = torch.randperm(num_points, generator=gen)[: min(num_points, 100)] + 1
        expected = torch.sort(scores, descending=True, stable=True).indices[ranks - 1]
        assert torch.equal(points_at_ranks(scores, ranks), expected)


@pytest.mark.parametrize("mode", ["power", "softmax", "softrank"])
@pytest.mark.parametrize("coldness", [0.0, 1.0, 8.0])
def test_numpy_and_torch_key_paths_agree(mode, coldness):
    """CPU tensors take the numpy path; accelerators the torch one (checked here on the CPU)."""
    scores = torch.randn(1000, generator=generator(5), dtype=torch.float64)
    uniforms = torch.rand(1000, generator=generator(6), dtype=torch.float64)
    uniforms[0] = 0.0  # clamped, finite
    by_numpy, by_torch = uniforms.clone(), uniforms.clone()
    _fill_keys_numpy(by_numpy.numpy(), scores.numpy(), mode, coldness)
    _fill_keys_torch(by_torch, scores, mode, coldness)
    assert torch.isfinite(by_numpy).all()
    torch.testing.assert_close(by_numpy, by_torch, rtol=1e-12, atol=1e-12)


def test_power_mode_clamps_non_positive_scores():
    scores = torch.tensor([-1.0, 0.0, 2.0, 3.0, -0.5], dtype=torch.float64)
    result = stochastic_batch(scores, 5, coldness=8.0, generator=generator())
    assert sorted(result.indices.tolist()) == [0, 1, 2, 3, 4]  # the batch can always be filled
    assert set(result.indices[:2].tolist()) == {2, 3}  # ε^8 is negligible next to 2^8
    assert torch.equal(result.scores, scores[result.indices])  # original scores, not clamped


def test_picks_are_unique_int64_and_scores_are_the_originals():
    scores = torch.randn(50, generator=generator(3), dtype=torch.float64)
    for mode in ["power", "softmax", "softrank"]:
        result = stochastic_batch(scores, 50, mode=mode, generator=generator())
        assert result.indices.dtype == torch.int64
        assert sorted(result.indices.tolist()) == list(range(50))
        assert result.scores.dtype == torch.float64
        assert torch.equal(result.scores, scores[result.indices])


def test_same_generator_seed_gives_the_same_picks():
    scores = torch.rand(1000, generator=generator(4), dtype=torch.float64)
    first = stochastic_batch(scores, 20, generator=generator(5))
    again = stochastic_batch(scores, 20, generator=generator(5))
    other = stochastic_batch(scores, 20, generator=generator(6))
    assert torch.equal(first.indices, again.indices)
    assert not torch.equal(first.indices, other.indices)


def test_numpy_and_float32_scores_are_accepted():
    scores = np.array([0.3, 0.1, 0.9], dtype=np.float32)
    result = stochastic_batch(scores, 3, mode="softmax", generator=generator())
    assert sorted(result.indices.tolist()) == [0, 1, 2]
    assert result.scores.dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "gumbel"}, "mode must be one of 'power', 'softmax', 'softrank'; got 'gumbel'"),
        ({"coldness": -1.0}, r"coldness must be a real number ≥ 0 .*got -1.0"),
        ({"coldness": float("nan")}, "coldness must be a real number ≥ 0"),
        ({"coldness": "8"}, "coldness must be a real number ≥ 0 .*got str"),
        ({"generator": 0}, "generator must be a torch.Generator or None; got int"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        stochastic_batch(SCORES, 2, **kwargs)


def test_bad_scores_and_batch_size_are_rejected():
    with pytest.raises(InvalidInputError, match="scores_N must be 1-D"):
        stochastic_batch(torch.zeros(2, 3), 1)
    with pytest.raises(InvalidInputError, match="scores_N must be finite"):
        stochastic_batch(torch.tensor([0.1, float("nan")]), 1)
    with pytest.raises(InvalidInputError, match="batch_size must be ≤ the pool size N = 5; got 6"):
        stochastic_batch(SCORES, 6)


def naive_thompson(log_probs: torch.Tensor, batch_size: int, seed: int) -> list[int]:
    """numpy reference in probability space, same sample order as the implementation."""
    probs = log_probs.exp().numpy()
    sample_order = torch.randperm(probs.shape[1], generator=generator(seed))[:batch_size]
    mean = probs.mean(axis=1)
    predictive = -(mean * np.log(mean)).sum(-1)
    picks: list[int] = []
    for sample in sample_order.tolist():
        per_sample = probs[:, sample]
        score = predictive + (per_sample * np.log(per_sample)).sum(-1)
        score[picks] = -np.inf
        picks.append(int(np.argmax(score)))
    return picks


def test_thompson_bald_matches_its_definition():
    log_probs = random_log_probs(40, 12, 4)
    result = thompson_bald(log_probs, 8, generator=generator(9))
    assert result.indices.tolist() == naive_thompson(log_probs, 8, seed=9)
    assert len(set(result.indices.tolist())) == 8


def test_thompson_bald_skips_picked_points_when_one_point_dominates():
    log_probs = random_log_probs(6, 6, 3).clone()
    # Point 0: confident samples that disagree, so it has the highest score under every sample.
    one_hots = torch.full((6, 3), 0.005, dtype=torch.float64)
    one_hots[torch.arange(6), torch.arange(6) % 3] = 0.99
    log_probs[0] = one_hots.log()
    result = thompson_bald(log_probs, 6, generator=generator())
    assert result.indices[0] == 0
    assert sorted(result.indices.tolist()) == list(range(6))


def test_thompson_bald_needs_at_least_b_samples():
    with pytest.raises(InvalidInputError, match=r"K ≥ b.*got K = 3 and batch_size = 4"):
        thompson_bald(random_log_probs(10, 3, 2), 4, generator=generator())


def test_uniform_top_bald_draws_uniformly_from_the_top_b_times_c():
    log_probs = random_log_probs(100, 8, 3)
    bald_N = bald(log_probs)
    top = set(top_k(bald_N, 2 * 3).indices.tolist())
    seen = Counter()
    for seed in range(60):  # 120 picks, 20 expected per top point
        result = uniform_top_bald(log_probs, 2, generator=generator(seed))
        assert set(result.indices.tolist()) <= top and len(set(result.indices.tolist())) == 2
        assert torch.equal(result.scores, bald_N[result.indices])
        seen.update(result.indices.tolist())
    counts = np.array([seen[i] for i in sorted(top)], dtype=float)
    assert chi_square(counts, np.full(6, 1 / 6)) < CHI2_999[5]


def test_uniform_top_bald_caps_the_candidate_set_at_the_pool():
    log_probs = random_log_probs(5, 4, 10)
    result = uniform_top_bald(log_probs, 5, generator=generator())
    assert sorted(result.indices.tolist()) == [0, 1, 2, 3, 4]


def test_factory_equals_sampling_the_score():
    log_probs = random_log_probs(30, 6, 4)
    acquire = score_acquirer(bald, "softrank")
    result = acquire(log_probs, 5, generator=generator(11), coldness=2.0)
    expected = stochastic_batch(
        bald(log_probs), 5, mode="softrank", coldness=2.0, generator=generator(11)
    )
    assert torch.equal(result.indices, expected.indices)


def test_factory_without_mode_takes_the_top_b():
    log_probs = random_log_probs(30, 6, 4)
    result = score_acquirer(entropy)(log_probs, 5)
    assert torch.equal(result.indices, top_k(entropy(log_probs), 5).indices)


@pytest.mark.parametrize("name", ["power_bald", "softmax_bald", "softrank_bald", "power_entropy"])
def test_registered_stochastic_acquirers_default_to_coldness_one(name):
    acquirer = get_acquirer(name)
    assert acquirer.settings == {"coldness": 1.0} and not acquirer.needs_eval_model
    result = get_acquirer(name, coldness=8.0)(random_log_probs(30, 6, 4), 4, generator=generator())
    assert len(set(result.indices.tolist())) == 4


@pytest.mark.parametrize(("score", "mode"), [("entropy", "softmax"), ("mean_std", "softrank")])
def test_mode_and_score_entries_sample_the_named_score(score, mode):
    log_probs = random_log_probs(30, 6, 4)
    result = get_acquirer(f"{mode}_{score}", coldness=3.0)(log_probs, 5, generator=generator(2))
    score_fn = {"entropy": entropy, "mean_std": mean_std}[score]
    reference = stochastic_batch(
        score_fn(log_probs), 5, mode=mode, coldness=3.0, generator=generator(2)
    )
    assert torch.equal(result.indices, reference.indices)


def test_evaluation_entries_sample_the_evaluation_score():
    log_probs, eval_log_probs = random_log_probs(30, 6, 4), random_log_probs(30, 6, 4)
    acquirer = get_acquirer("softmax_evaluation_bald", coldness=2)
    result = acquirer(log_probs, 4, generator=generator(3), eval_log_probs_N_K_C=eval_log_probs)
    reference = stochastic_batch(
        evaluation_bald(log_probs, eval_log_probs),
        4,
        mode="softmax",
        coldness=2.0,
        generator=generator(3),
    )
    assert torch.equal(result.indices, reference.indices)
