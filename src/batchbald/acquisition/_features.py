"""Feature-based acquirers (BADGE, k-center coreset): their registry form and input checks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.acquisition._validation import as_tensor
from batchbald.acquisition.result import AcquisitionResult
from batchbald.errors import InvalidInputError

__all__ = ["FeatureInputs", "check_features", "feature_acquirer"]


@dataclass(frozen=True)
class FeatureInputs:
    """The inputs the registry hands a feature-based rule, unchecked (issue 24).

    Attributes:
        log_probs_N_K_C: ``[N, K, C]`` pool log-probabilities, or the pool size N (an int) for a
            rule registered with ``needs_predictions=False``.
        embeddings_N_D: ``[N, D]`` penultimate features of the pool (``model.embed``).
        labelled_embeddings_L_D: ``[L, D]`` features of the labelled points, or None.
        generator: the rule's randomness; None uses torch's global generator.
    """

    log_probs_N_K_C: Any
    embeddings_N_D: Any
    labelled_embeddings_L_D: Any
    generator: torch.Generator | None


def feature_acquirer(
    rule: Callable[[FeatureInputs, int], AcquisitionResult],
) -> Callable[..., AcquisitionResult]:
    """``rule(inputs, batch_size)`` as the function every feature-based acquirer is.

    That is ``fn(log_probs_N_K_C, batch_size, *, generator=None, embeddings_N_D=None,
    labelled_embeddings_L_D=None)``, the form the registry calls with ``needs_embeddings``; it
    keeps ``rule``'s name and docstring, which document those arguments.
    """

    def acquire(
        log_probs_N_K_C: Any,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        embeddings_N_D: Any = None,
        labelled_embeddings_L_D: Any = None,
    ) -> AcquisitionResult:
        inputs = FeatureInputs(log_probs_N_K_C, embeddings_N_D, labelled_embeddings_L_D, generator)
        return rule(inputs, batch_size)

    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(acquire, attribute, getattr(rule, attribute))
    return acquire


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
