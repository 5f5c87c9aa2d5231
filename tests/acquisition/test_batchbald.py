"""BatchBALD against an independent brute-force reference (numpy, probability space).

The reference enumerates all C^n label configurations: p(y_A) = (1/K) Σ_k Π_i p(y_i | ω_k),
H(y_A) = -Σ p log p, a_BatchBALD(A) = H(y_A) - Σ_i E_ω H(y_i | ω) (Kirsch et al. 2019, eq. 8).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from batchbald.acquisition import bald, batchbald
from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition.greedy.engine import run_greedy
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.acquisition.greedy.single import SingleTermObjective
from batchbald.acquisition.scores import bald_and_conditional_entropy
from batchbald.errors import InvalidInputError

EXACT_TOLERANCE = 1e-10  # float64 exact phase vs brute force


def random_log_probs(seed: int, n: int, k: int, c: int, temperature: float = 1.5) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    logits = temperature * torch.randn(n, k, c, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=-1)


def brute_joint_entropy(probs_A_K_C: np.ndarray) -> float:
    num_points, num_samples, num_classes = probs_A_K_C.shape
    total = 0.0
    for labels in itertools.product(range(num_classes), repeat=num_points):
        joint_K = np.ones(num_samples)
        for point, label in enumerate(labels):
            joint_K = joint_K * probs_A_K_C[point, :, label]
        p = joint_K.mean()
        if p > 0:
            total -= p * math.log(p)
    return total


def brute_batchbald(probs_N_K_C: np.ndarray, batch: list[int]) -> float:
    probs = probs_N_K_C[batch]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(probs > 0, probs * np.log(probs), 0.0)
    conditional = -plogp.sum(axis=2).mean(axis=1).sum()
    return brute_joint_entropy(probs) - conditional


def brute_greedy(probs_N_K_C: np.ndarray, batch_size: int) -> tuple[list[int], list[float]]:
    picks: list[int] = []
    values: list[float] = []
    for _ in range(batch_size):
        candidates = [n for n in range(len(probs_N_K_C)) if n not in picks]
        scores = [brute_batchbald(probs_N_K_C, [*picks, n]) for n in candidates]
        best = int(np.argmax(scores))
        picks.append(candidates[best])
        values.append(scores[best])
    return picks, values


PUBLISHED_K, PUBLISHED_C = 20, 4


def published_example() -> torch.Tensor:
    """The batchbald_redux example (PROTOCOL.md §1, end): point j mixes linearly over the K
    samples from p1 rotated to class j to p2_j."""
    p1 = torch.tensor([0.7, 0.1, 0.1, 0.1], dtype=torch.float64)
    p2 = torch.tensor(
        [[0.3, 0.3, 0.2, 0.2], [0.2, 0.3, 0.3, 0.2], [0.2, 0.2, 0.3, 0.3], [0.3, 0.2, 0.2, 0.3]],
        dtype=torch.float64,
    )
    t = torch.linspace(0, 1, PUBLISHED_K, dtype=torch.float64)[:, None]
    return torch.stack([((1 - t) * p1.roll(j) + t * p2[j]).log() for j in range(4)])


def test_published_reference_values():
    # Provenance: batchbald_redux's example notebook, quoted in shared PROTOCOL.md §1.
    log_probs = published_example()
    assert bald(log_probs).tolist() == pytest.approx([0.0307156] * 4, abs=1e-7)
    result = batchbald(log_probs, 4, num_samples=10_000)
    assert result.scores.tolist() == pytest.approx(
        [0.0307156, 0.0596196, 0.0869107, 0.1127530], abs=2e-7
    )


@pytest.mark.parametrize(
    ("seed", "n", "k", "c", "b"),
    [(0, 8, 5, 3, 4), (1, 6, 7, 4, 3), (2, 8, 3, 2, 4), (3, 5, 10, 4, 4)],
)
def test_exact_phase_equals_brute_force_greedy(seed, n, k, c, b):
    log_probs = random_log_probs(seed, n, k, c)
    expected_picks, expected_values = brute_greedy(log_probs.exp().numpy(), b)
    result = batchbald(log_probs, b, num_samples=c**b)
    assert result.indices.tolist() == expected_picks
    np.testing.assert_allclose(result.scores.numpy(), expected_values, rtol=0, atol=EXACT_TOLERANCE)


@pytest.mark.parametrize(("seed", "a", "k", "c"), [(0, 3, 5, 3), (1, 4, 4, 4), (2, 2, 6, 2)])
def test_exact_joint_entropy_equals_brute_force(seed, a, k, c):
    log_probs = random_log_probs(seed, a + 3, k, c)
    configs = je.enumerate_configurations(log_probs[:a])
    expected = brute_joint_entropy(log_probs[:a].exp().numpy())
    assert configs.entropy() == pytest.approx(expected, abs=EXACT_TOLERANCE)
    with_candidates = je.joint_entropies_with_candidates(configs, log_probs[a:])
    for offset, value in enumerate(with_candidates.tolist()):
        brute = brute_joint_entropy(log_probs[[*range(a), a + offset]].exp().numpy())
        assert value == pytest.approx(brute, abs=EXACT_TOLERANCE)


def test_sampled_joint_entropy_within_derived_tolerance():
    log_probs = random_log_probs(7, 5, 8, 3)
    batch, candidate = log_probs[:4], log_probs[4:]
    num_configurations = 20_000
    configs = je.sample_configurations(
        batch, num_configurations, generator=torch.Generator().manual_seed(0)
    )
    estimate = je.joint_entropies_with_candidates(configs, candidate).item()
    # The estimator averages f(ŷ) = -log p(ŷ) + H[p(y | ŷ, x)] over ŷ ~ p(y_A) (one draw per
    # configuration; stratifying ω only lowers the variance). Its standard error is
    # σ_f / sqrt(M) with σ_f² = E[f²] - E[f]², computed exactly here by enumeration.
    # Tolerance: 5 standard errors (a false failure has probability < 1e-6).
    exact_configs = je.enumerate_configurations(batch)
    log_marginal = exact_configs.log_marginal_M
    posterior = exact_configs.posterior_M_K()
    conditional = posterior @ candidate[0].exp()
    f = -log_marginal + torch.special.entr(conditional).sum(dim=1)
    p = log_marginal.exp()
    mean = float((p * f).sum())
    sigma = math.sqrt(float((p * f.square()).sum()) - mean**2)
    tolerance = 5 * sigma / math.sqrt(num_configurations)
    assert mean == pytest.approx(brute_joint_entropy(log_probs.exp().numpy()), abs=1e-10)
    assert abs(estimate - mean) < tolerance


@pytest.mark.filterwarnings("ignore::batchbald.errors.FewSamplesWarning")
def test_sampled_phase_scores_track_exact_values():
    log_probs = random_log_probs(11, 8, 6, 3)
    result = batchbald(
        log_probs, 4, num_samples=30_000, generator=torch.Generator().manual_seed(3)
    )  # 3^4 = 81 ≤ 30000: exact; force sampling below
    sampled = batchbald(log_probs, 4, num_samples=50, generator=torch.Generator().manual_seed(3))
    exact_value = brute_batchbald(log_probs.exp().numpy(), sampled.indices.tolist())
    # Picks 1-3 are exact (3^3 = 27 ≤ 50); pick 4 draws 50 configurations. Tolerance: the
    # per-configuration term f is bounded by -log p_min + log C ≲ 10 nats here, so 5·10/√50 ≈ 7;
    # we check the much tighter agreement the sampled estimate achieves in practice loosely.
    assert abs(sampled.scores[-1].item() - exact_value) < 5 * 10 / math.sqrt(50)
    assert result.scores[-1].item() == pytest.approx(
        brute_batchbald(log_probs.exp().numpy(), result.indices.tolist()), abs=EXACT_TOLERANCE
    )


def test_lazy_equals_full_greedy_in_exact_phase():
    log_probs = random_log_probs(5, 60, 10, 3)
    lazy = batchbald(log_probs, 5, num_samples=3**5)
    full = batchbald(log_probs, 5, num_samples=3**5, lazy=False)
    assert lazy.indices.tolist() == full.indices.tolist()
    np.testing.assert_allclose(lazy.scores.numpy(), full.scores.numpy(), atol=EXACT_TOLERANCE)


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
@pytest.mark.parametrize("coarse_dtype", [None, torch.float32])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lazy_equals_full_greedy_with_both_coarse_bound_levels(coarse_dtype, dtype):
    # K = 8, C = 3, exact for all 7 picks: steps with ≥ 4·K configurations use the mode bound;
    # the last (729 configurations, 78 mode × probability rows) also the refined bound. The
    # bounds are float64 for K ≤ 32 by default; float32 bounds are forced through the engine's
    # interface, with exact gains in float64 and in float32 (whose slack is rounding_bound).
    log_probs = random_log_probs(11, 200, 8, 3, temperature=2.5)
    first = bald_and_conditional_entropy(log_probs)
    results = []
    for lazy in (True, False):
        options = GreedyOptions(num_samples=3**7, dtype=dtype, lazy=lazy)
        objective = SingleTermObjective(log_probs, first, options, 7, coarse_dtype=coarse_dtype)
        if coarse_dtype is not None:
            assert objective.spaces.coarse.probs.dtype == coarse_dtype
        results.append(run_greedy(objective, 7, lazy))
    lazy, full = results
    assert lazy.indices.tolist() == full.indices.tolist()
    np.testing.assert_allclose(lazy.scores.numpy(), full.scores.numpy(), atol=EXACT_TOLERANCE)
    assert lazy.indices.tolist() == batchbald(log_probs, 7, num_samples=3**7).indices.tolist()


@pytest.mark.parametrize("bins", [1, 4, 16])
@pytest.mark.parametrize("sampled", [False, True])
def test_coarsened_configurations_bound_the_candidate_term(bins, sampled):
    """Jensen per group: the coarse Σ_g W_g H[...] is ≥ the fine Σ_m w_m H[...] for every
    candidate, with the total weight kept."""
    log_probs = random_log_probs(12, 40, 16, 4, temperature=2.0)
    batch = log_probs[:4]
    configs = (
        je.sample_configurations(batch, 300, generator=torch.Generator().manual_seed(0))
        if sampled
        else je.enumerate_configurations(batch)
    )
    posterior, weights = configs.posterior_M_K(), configs.log_weights_M.exp()
    coarse_posterior, coarse_weights = je.coarsen_by_posterior_mode(posterior, weights, bins=bins)
    assert coarse_posterior.shape[0] <= min(16 * bins, posterior.shape[0])
    assert coarse_weights.sum().item() == pytest.approx(weights.sum().item(), abs=1e-12)
    np.testing.assert_allclose(coarse_posterior.sum(dim=1).numpy(), 1.0, atol=1e-12)
    fine = je.conditional_entropy_sums(posterior, weights, log_probs, 7)
    coarse = je.conditional_entropy_sums(coarse_posterior, coarse_weights, log_probs, 7)
    assert (coarse >= fine - 1e-12).all()
    assert (coarse - fine).max().item() > 1e-6  # a real bound, not a copy


def test_group_by_posterior_mode_maps_every_configuration_to_its_group():
    log_probs = random_log_probs(13, 5, 16, 4, temperature=2.0)
    configs = je.enumerate_configurations(log_probs[:3])
    posterior, weights = configs.posterior_M_K(), configs.log_weights_M.exp()
    weights[:5] = 0.0  # their groups may vanish
    posterior_G_K, weights_G, group_M = je.group_by_posterior_mode(posterior, weights, bins=4)
    for g in range(len(weights_G)):  # naive per-group sums
        members = group_M == g
        assert weights_G[g].item() == pytest.approx(weights[members].sum().item(), abs=1e-12)
        mass = (posterior[members] * weights[members, None]).sum(dim=0) / weights_G[g]
        np.testing.assert_allclose(posterior_G_K[g].numpy(), mass.numpy(), atol=1e-12)
    assert (weights[group_M < 0] == 0).all()
    coarse = je.coarsen_by_posterior_mode(posterior, weights, bins=4)
    assert torch.equal(coarse[0], posterior_G_K) and torch.equal(coarse[1], weights_G)


def test_conditional_entropy_rows_match_a_naive_loop():
    log_probs = random_log_probs(14, 6, 8, 5, temperature=2.0)
    posterior = torch.softmax(
        torch.randn(7, 8, generator=torch.Generator().manual_seed(1)).double(), 1
    )
    rows = je.conditional_entropy_rows(posterior, log_probs)
    for g in range(7):
        for n in range(6):
            q = posterior[g] @ log_probs[n].exp()
            assert rows[g, n].item() == pytest.approx(-(q * q.log()).sum().item(), abs=1e-12)
    weights = torch.rand(7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    np.testing.assert_allclose(
        (weights @ rows).numpy(),
        je.conditional_entropy_sums(posterior, weights, log_probs, 4).numpy(),
        atol=1e-12,
    )


@pytest.mark.parametrize("num_configs", [63, 64, 1000, 5000])
def test_float32_conditional_entropy_sums_stay_within_rounding_bound(num_configs):
    """Blocked float64 accumulation: the float32 error is within joint_entropy.rounding_bound,
    which does not grow with the number of configurations."""
    generator = torch.Generator().manual_seed(num_configs)
    log_probs = random_log_probs(15, 40, 100, 10, temperature=3.0)
    posterior = torch.softmax(3 * torch.randn(num_configs, 100, generator=generator).double(), 1)
    weights = torch.rand(num_configs, dtype=torch.float64, generator=generator)
    weights /= weights.sum()
    exact = je.conditional_entropy_sums(posterior, weights, log_probs, 16)
    single = je.conditional_entropy_sums(posterior.float(), weights.float(), log_probs.float(), 16)
    error = (single - exact).abs().max().item()
    assert error <= je.rounding_bound(100, 10, torch.float32, num_configs)
    assert je.rounding_bound(100, 10, torch.float32, 10**6) < 2e-4  # independent of M


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
def test_memory_budget_and_chunking_do_not_change_results():
    log_probs = random_log_probs(9, 300, 12, 4).float()
    kwargs = {"num_samples": 500, "generator": None}
    results = [
        batchbald(
            log_probs,
            6,
            generator=torch.Generator().manual_seed(1),
            num_samples=500,
            max_memory_bytes=budget,
        )
        for budget in (2**30, 2**20, 520_000)
    ]
    del kwargs
    for other in results[1:]:
        assert other.indices.tolist() == results[0].indices.tolist()
        np.testing.assert_allclose(other.scores.numpy(), results[0].scores.numpy(), atol=1e-12)


def test_duplicates_are_not_picked_twice_by_batchbald_but_are_by_bald():
    base = random_log_probs(4, 10, 20, 5, temperature=3.0)
    log_probs = torch.cat([base, base, base])  # exact copies, like Repeated-MNIST without noise
    picks = batchbald(log_probs, 3, num_samples=5**3).indices.tolist()
    assert len({p % 10 for p in picks}) == 3
    top_bald = torch.sort(bald(log_probs), descending=True, stable=True).indices[:3].tolist()
    assert len({p % 10 for p in top_bald}) == 1


def test_float32_compute_dtype_close_to_float64():
    log_probs = random_log_probs(8, 50, 10, 4)
    r64 = batchbald(log_probs, 4, num_samples=4**4)
    r32 = batchbald(log_probs, 4, num_samples=4**4, dtype=torch.float32)
    np.testing.assert_allclose(r32.scores.numpy(), r64.scores.numpy(), atol=1e-4)


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
def test_strided_input_gives_the_same_picks():
    log_probs = random_log_probs(13, 300, 12, 4)
    strided = log_probs.transpose(0, 1).contiguous().transpose(0, 1)
    assert not strided.is_contiguous()
    first, second = (
        batchbald(pool, 6, num_samples=200, generator=torch.Generator().manual_seed(0))
        for pool in (log_probs, strided)
    )
    assert first.indices.tolist() == second.indices.tolist()
    assert torch.equal(first.scores, second.scores)


def test_too_small_workspace_is_a_clear_error():
    log_probs = random_log_probs(14, 20, 6, 3)
    configs = je.enumerate_configurations(log_probs[:2])
    posterior, weights = configs.posterior_M_K(), configs.log_weights_M.exp()
    small = je.Workspace(2, 3, log_probs, torch.float64)  # 2 rows, 3 candidates
    with pytest.raises(InvalidInputError, match=r"workspace must hold 5 candidates against 9"):
        je.conditional_entropy_sums(posterior, weights, log_probs, 5, small)
    exact = je.conditional_entropy_sums(posterior, weights, log_probs, 5)
    fitting = je.Workspace(9, 5, log_probs, torch.float64)
    reused = je.conditional_entropy_sums(posterior, weights, log_probs, 5, fitting)
    assert torch.equal(reused, exact)
