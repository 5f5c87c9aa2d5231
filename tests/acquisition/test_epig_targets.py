"""The EPIG family with an explicit target set (``target_log_probs_T_K_C``) instead of pool targets.

The reference for the picks is the brute-force EPIG of ``test_epig.py`` (enumerating every
(y, y*) with numpy) on the target rows the acquirer's generator draws, then top-b: tolerance
1e-10 on the scores (float64 sums of at most C² terms each).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from batchbald.acquisition import available_acquirers, get_acquirer
from batchbald.errors import InvalidInputError

from .test_epig import brute_force_epig, make

TARGET_RULES = [name for name in available_acquirers() if get_acquirer(name).uses_targets]
N, T, K, C, B = 30, 12, 6, 3, 4


def test_the_epig_family_uses_targets():
    assert TARGET_RULES == ["batch_epig", "epig", "power_epig"]


@pytest.mark.parametrize("name", TARGET_RULES)
def test_targets_equal_to_the_pool_give_the_pool_targets_picks(name):
    """All of an explicit target set that is the pool = the pool targets (num ≥ N)."""
    pool = make(0, N, K, C)
    acquirer = get_acquirer(name, num_target_samples=N)
    implicit = acquirer(pool, B, generator=torch.Generator().manual_seed(1))
    explicit = acquirer(
        pool, B, generator=torch.Generator().manual_seed(1), target_log_probs_T_K_C=pool.clone()
    )
    assert explicit.indices.tolist() == implicit.indices.tolist()
    torch.testing.assert_close(explicit.scores, implicit.scores, rtol=0, atol=0)


@pytest.mark.parametrize("num_target_samples", [5, T, T + 3])
def test_epig_picks_the_top_b_of_brute_force_epig_on_the_drawn_targets(num_target_samples):
    pool, target = make(2, N, K, C), make(3, T, K, C)
    result = get_acquirer("epig", num_target_samples=num_target_samples)(
        pool, B, generator=torch.Generator().manual_seed(4), target_log_probs_T_K_C=target
    )
    rows = torch.arange(T)
    if num_target_samples < T:  # one randperm of the acquisition generator, as documented
        rows = torch.randperm(T, generator=torch.Generator().manual_seed(4))[:num_target_samples]
    expected = brute_force_epig(pool, target[rows])
    order = np.argsort(-expected, kind="stable")[:B]
    assert sorted(result.indices.tolist()) == sorted(order.tolist())
    np.testing.assert_allclose(result.scores.numpy(), expected[result.indices.numpy()], atol=1e-10)


@pytest.mark.parametrize("name", TARGET_RULES)
def test_certain_targets_make_every_score_zero(name):
    """EPIG = 0 when the posterior samples agree on every target, however uncertain the pool."""
    certain = torch.full((T, K, C), -math.inf, dtype=torch.float64)
    certain[..., 0] = 0.0
    generator = torch.Generator().manual_seed(0)
    result = get_acquirer(name)(
        make(5, N, K, C), B, generator=generator, target_log_probs_T_K_C=certain
    )
    assert len(set(result.indices.tolist())) == B
    assert result.scores.abs().max() <= 1e-12


@pytest.mark.parametrize("name", TARGET_RULES)
@pytest.mark.parametrize(
    ("shape", "what"), [((T, K + 1, C), "same K"), ((T, K, C + 1), "same K"), ((T, K), "3-d")]
)
def test_targets_of_another_shape_are_rejected_by_name(name, shape, what):
    bad = torch.zeros(shape, dtype=torch.float64).log_softmax(-1)
    with pytest.raises(InvalidInputError, match="target_log_probs_T_K_C") as caught:
        get_acquirer(name)(
            make(0, N, K, C), B, generator=torch.Generator(), target_log_probs_T_K_C=bad
        )
    assert str(tuple(shape)) in str(caught.value) or what in str(caught.value)


@pytest.mark.parametrize("name", ["bald", "batchbald", "random", "badge"])
def test_rules_without_targets_refuse_them_by_name(name):
    with pytest.raises(InvalidInputError, match=rf"'{name}' takes no target_log_probs_T_K_C"):
        get_acquirer(name)(
            make(0, N, K, C),
            B,
            generator=torch.Generator(),
            target_log_probs_T_K_C=make(1, T, K, C),
            embeddings_N_D=torch.zeros(N, 2),
        )
