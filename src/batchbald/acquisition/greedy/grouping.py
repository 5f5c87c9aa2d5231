"""Merging label configurations with similar posteriors: cheaper rows giving valid bounds.

Used by the greedy engine's lazy bounds (Jensen's inequality per group; see docs/greedy.md).
"""

from __future__ import annotations

import torch

__all__ = [
    "COARSEN_MIN_RATIO",
    "REFINE_BINS",
    "coarsen_by_posterior_mode",
    "group_by_posterior_mode",
]


def coarsen_by_posterior_mode(
    posterior_M_K: torch.Tensor, weights_M: torch.Tensor, *, bins: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge configurations with similar posteriors p(ω | ŷ^m): an upper bound at lower cost.

    Configurations are grouped by the mode g(m) = argmax_k p(ω_k | ŷ^m) and, with ``bins`` > 1,
    by which of ``bins`` equal intervals of [0, 1] holds the mode's probability. Group g gets
    the weight W_g = Σ_{m∈g} w_m and the averaged posterior Q_g = Σ_{m∈g} w_m p(ω | ŷ^m) / W_g.
    For every candidate x the entropy H[Σ_k q_k p(· | x, ω_k)] is concave in q, so (Jensen, per
    group)

        Σ_m w_m H[p(· | ŷ^m, x)]  ≤  Σ_g W_g H[Σ_k Q_g[k] p(· | x, ω_k)],

    i.e. :func:`conditional_entropy_sums` of the G coarse rows bounds that of the M fine rows from
    above at G/M of the cost. Any grouping gives a valid bound; the tighter the posteriors within
    a group, the tighter the bound. It is tight when posteriors concentrate on one ω, exactly
    when the batch's joint MI approaches log K and the last gains (lazy greedy's classic bound)
    are loose.

    Args:
        posterior_M_K: p(ω_k | ŷ^m), rows summing to 1.
        weights_M: w_m ≥ 0.
        bins: intervals of the mode's probability per mode (1: group by the mode only).

    Returns:
        ``(posterior_G_K, weights_G)`` for the G ≤ K · bins non-empty groups, input dtype.
    """
    posterior_G_K, weights_G, _ = group_by_posterior_mode(posterior_M_K, weights_M, bins=bins)
    return posterior_G_K, weights_G


def group_by_posterior_mode(
    posterior_M_K: torch.Tensor, weights_M: torch.Tensor, *, bins: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`coarsen_by_posterior_mode` and which group each configuration went to.

    Returns:
        ``(posterior_G_K, weights_G, group_M)``: ``group_M[m]`` is the row of configuration m
        in the first two, or −1 where its whole group had weight 0 (and was dropped).
    """
    mode_M = posterior_M_K.max(dim=1)
    group_M = mode_M.indices
    if bins > 1:
        level_M = (mode_M.values * bins).long().clamp_(max=bins - 1)
        group_M = group_M * bins + level_M
    groups, group_M = torch.unique(group_M, return_inverse=True)
    weights_G = weights_M.new_zeros(len(groups)).index_add_(0, group_M, weights_M)
    mass_G_K = posterior_M_K.new_zeros(len(groups), posterior_M_K.shape[1]).index_add_(
        0, group_M, posterior_M_K * weights_M[:, None]
    )
    used = weights_G > 0  # weights that underflowed to 0 carry no mass
    renumber = torch.cumsum(used, dim=0) - 1
    group_M = torch.where(used[group_M], renumber[group_M], -1)
    return mass_G_K[used] / weights_G[used, None], weights_G[used], group_M


#: Bound from grouped configurations when the step has at least this many times as many
#: configurations as groups by posterior mode (≤ K).
COARSEN_MIN_RATIO = 4
#: Intervals of the mode's probability per posterior mode in the finer groupings.
REFINE_BINS = 16
