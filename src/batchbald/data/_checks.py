"""Argument checks and random helpers shared by the data transforms and the split."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from batchbald.errors import InvalidInputError


def check_int(value: Any, name: str, *, minimum: int = 0) -> int:
    """An integer (not bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be an integer ≥ {minimum}; got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be an integer ≥ {minimum}; got {value}")
    return int(value)


def check_real(
    value: Any, name: str, *, low: float = 0.0, high: float = math.inf, high_open: bool = False
) -> float:
    """A finite real in ``[low, high]`` (``[low, high)`` when ``high_open``)."""
    closing = ")" if high_open or math.isinf(high) else "]"
    expected = f"a real number in [{low:g}, {high:g}{closing}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be {expected}; got {value!r}")
    value = float(value)
    too_high = value >= high if high_open else value > high
    if math.isnan(value) or value < low or too_high or math.isinf(value):
        raise InvalidInputError(f"{name} must be {expected}; got {value!r}")
    return value


def check_generator(generator: Any) -> torch.Generator | None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidInputError(
            f"generator must be a torch.Generator or None; got {type(generator).__name__}. "
            "Create one with torch.Generator().manual_seed(seed)."
        )
    return generator


def check_index_vector(value: Any, name: str, size: int | None = None) -> torch.Tensor:
    """A 1-D int64 tensor (from a tensor, array or sequence), values in ``[0, size)``."""
    tensor = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
    if tensor.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    if tensor.dim() != 1 or tensor.is_floating_point() or tensor.dtype == torch.bool:
        raise InvalidInputError(
            f"{name} must be a 1-D sequence of integer indices; got dtype {tensor.dtype} and "
            f"shape {tuple(tensor.shape)}"
        )
    tensor = tensor.long().cpu()
    if size is not None and (tensor.min() < 0 or tensor.max() >= size):
        bad = tensor[(tensor < 0) | (tensor >= size)][0]
        raise InvalidInputError(f"{name} must lie in [0, {size}); got the index {int(bad)}")
    return tensor


def randn_like(tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal noise shaped like ``tensor``, drawn on the generator's device."""
    device = generator.device if generator is not None else tensor.device
    noise = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype, device=device)
    return noise.to(tensor.device)


def child_generator(generator: torch.Generator | None) -> torch.Generator:
    """A new CPU generator seeded from ``generator`` (one independent stream per consumer)."""
    seed = int(torch.randint(0, 2**62, (), generator=generator))
    return torch.Generator().manual_seed(seed)
