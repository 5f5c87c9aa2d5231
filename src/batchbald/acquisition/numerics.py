"""Numerical primitives shared by the acquisition functions: entropy terms, argmax, top-k.

Entropy terms follow ``torch.special.entr`` semantics everywhere: −p log p with 0 · log 0 = 0,
never NaN. The variants below differ only in what the caller already holds (the
log-probabilities, or only the probabilities) and whether they write into a work buffer.
Selections break ties by the lowest pool index, so results never depend on the order in which
a reduction visits its elements.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "argmax_lowest_index",
    "entropy_rows",
    "neg_entropy_terms_",
    "plogp_sums",
    "stable_top_k",
]


def plogp_sums(log_probs_n_: torch.Tensor, probs_n_: torch.Tensor) -> torch.Tensor:
    """Σ p log p over all but the first axis, float64 ``[n]``, given p and log p.

    p must be contiguous and is overwritten with p log p; log p may have any strides.

    Uses the given log p (one product per element instead of a second logarithm). Where p = 0,
    0 · (−inf) is NaN; it counts as 0, and the repair pass runs only when a row sum shows a NaN.
    """
    plogp = probs_n_.mul_(log_probs_n_).view(len(probs_n_), -1)
    sums = plogp.sum(dim=1, dtype=torch.float64)
    if torch.isnan(sums).any():
        sums = plogp.nan_to_num_(nan=0.0).sum(dim=1, dtype=torch.float64)
    return sums


def neg_entropy_terms_(probs: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """P log p elementwise into ``out`` (same shape and dtype), 0 where p = 0; returns ``out``.

    Computed as p · log max(p, tiny): vectorised (``torch.special.entr`` is not), and the clamp
    changes nothing else (|p log p| < 1e-305 below tiny) while sparing ``log`` the slow path of
    subnormal inputs.
    """
    torch.clamp_min(probs, torch.finfo(probs.dtype).tiny, out=out)
    return out.log_().mul_(probs)


def entropy_rows(probs_n_D: torch.Tensor) -> torch.Tensor:
    """H[p] = −Σ_d p log p per row, in the input's dtype, ``[n]``."""
    return torch.special.entr(probs_n_D).sum(dim=-1)


def argmax_lowest_index(
    values: torch.Tensor, indices: torch.Tensor, tolerance: float = 0.0
) -> tuple[float, int]:
    """The largest value and the lowest index among values within ``tolerance`` of it.

    Args:
        values: ``[n]`` scores, at least one.
        indices: ``[n]`` the pool index of each score.
        tolerance: values this close to the maximum count as ties.
    """
    best = values.max()
    return float(best), int(indices[values >= best - tolerance].min())


def stable_top_k(values_N: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest values, best first, ties by the lower index.

    ``torch.topk`` is O(N) but does not promise an order among ties; a stable sort of the few
    values ≥ the k-th largest (ties included) gives a deterministic order.
    """
    threshold = torch.topk(values_N, k, sorted=False).values.min()
    if values_N.device.type == "cpu":
        # numpy's single-threaded scan: on a shared CPU several times faster than torch's
        # intra-op threads, which wait for each other.
        above = np.flatnonzero(values_N.detach().numpy() >= threshold.item())
        contenders = torch.from_numpy(above)
    else:
        contenders = torch.nonzero(values_N >= threshold).squeeze(1)
    order = torch.sort(values_N[contenders], descending=True, stable=True).indices[:k]
    return contenders[order]
