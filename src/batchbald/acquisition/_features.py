"""Input checks for feature-based acquirers (BADGE, k-center coreset)."""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.acquisition._validation import as_tensor
from batchbald.errors import InvalidInputError

__all__ = ["check_features"]


def check_features(
    features_N_D: Any,
    name: str,
    *,
    num_points: int | None = None,
    dim: int | None = None,
    allow_empty: bool = False,
) -> torch.Tensor:
    """Validate a feature matrix ``[N, D]`` and return it as a float64 tensor.

    Args:
        features_N_D: the features (tensor or numpy array).
        name: the argument's name, for messages.
        num_points: N it must have (the pool size), or None.
        dim: D it must have (the pool features' width), or None.
        allow_empty: whether N = 0 is allowed (no labelled points yet).

    Raises:
        InvalidInputError: not 2-D, not floating, wrong N or D, empty, NaN or inf.
    """
    tensor = as_tensor(features_N_D, name)
    if tensor.dim() != 2:
        raise InvalidInputError(
            f"{name} must be 2-D [N, D] (points, feature dimensions); got shape "
            f"{tuple(tensor.shape)}. Models provide them with embed(x) -> [B, D]."
        )
    if not tensor.is_floating_point():
        raise InvalidInputError(f"{name} must be a floating tensor; got dtype {tensor.dtype}")
    _check_size(tensor, name, num_points, dim)
    if not allow_empty and tensor.numel() == 0:
        raise InvalidInputError(f"{name} must not be empty; got shape {tuple(tensor.shape)}")
    if tensor.numel() and not math.isfinite(tensor.abs().max().item()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise InvalidInputError(f"{name} must be finite; got {bad} NaN/inf entries")
    return tensor.to(torch.float64)


def _check_size(tensor: torch.Tensor, name: str, num_points: int | None, dim: int | None) -> None:
    """N and D of ``tensor`` must equal ``num_points`` and ``dim`` where those are given."""
    if num_points is not None and len(tensor) != num_points:
        raise InvalidInputError(
            f"{name} must have one row per pool point (N = {num_points}); got {len(tensor)} rows"
        )
    if dim is not None and tensor.shape[1] != dim:
        raise InvalidInputError(
            f"{name} must have D = {dim} columns like the pool's features; got {tensor.shape[1]}"
        )
