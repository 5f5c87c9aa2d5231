"""Input checks shared by every acquisition function (one place, one message style).

Messages follow the template: what the argument must be; what was received; a hint.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from batchbald.acquisition._chunks import map_rows
from batchbald.errors import InvalidInputError, SingleSampleWarning

# Largest |Σ_c exp(log p) - 1| accepted for a row of log-probabilities. float32 softmax outputs
# of a CNN deviate by ~1e-7; 1e-3 rejects logits and unnormalised scores with a wide margin.
NORMALISATION_TOLERANCE = 1e-3


# Words for the numpy dtype kinds a tensor cannot hold (numbers are kinds "biuf").
_KIND_WORDS = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}


def as_tensor(value: Any, name: str) -> torch.Tensor:
    """The tensor every acquisition input is read as (one place for every public function).

    numpy arrays (and anything numpy accepts) become tensors; tensors pass through. Rejected
    with a named :class:`~batchbald.errors.InvalidInputError`: arrays of strings or objects,
    and tensors on the ``meta`` device (no data). A tensor with ``requires_grad=True`` (scored
    outside ``torch.no_grad()``) is *detached*: acquisition is not differentiable, so no
    autograd graph is built and the results carry no gradient.
    """
    tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(_numeric(value, name))
    if tensor.is_meta:
        raise InvalidInputError(
            f"{name} must hold data; got a tensor on the meta device (shape "
            f"{tuple(tensor.shape)}, no values). Compute it on a real device (cpu, cuda)."
        )
    return tensor.detach()


def _numeric(value: Any, name: str) -> np.ndarray:
    """``value`` as a native-byte-order numeric numpy array (no copy where possible)."""
    array = value
    if not isinstance(value, np.ndarray):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"{name} must be a torch.Tensor or numpy array; got {type(value).__name__}"
            )
    if array.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} must be a numeric array (float32 or float64); got a numpy array of dtype "
            f"{array.dtype} ({_KIND_WORDS.get(array.dtype.kind, 'not numbers')})"
        )
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def check_log_probs(
    log_probs_N_K_C: Any,
    name: str = "log_probs_N_K_C",
    *,
    warn_single_sample: bool = True,
    check_normalisation: bool = True,
) -> torch.Tensor:
    """Validate pool log-probabilities and return them as a floating tensor ``[N, K, C]``.

    Checks: 3-D, floating dtype, non-empty pool, K ≥ 1, C ≥ 2, no NaN, no +inf, and every row
    normalised over C (Σ_c exp ≈ 1). ``-inf`` (probability 0) is allowed. Callers that compute
    the probabilities anyway pass ``check_normalisation=False`` and call
    :func:`check_normalisation_deviation` themselves, saving a pass over the pool.
    Warns with :class:`SingleSampleWarning` when K = 1 and ``warn_single_sample``.
    """
    tensor = as_tensor(log_probs_N_K_C, name)
    _check_layout(tensor, name)
    _check_finite(tensor, name)
    if check_normalisation:
        check_normalisation_deviation(_max_normalisation_deviation(tensor), name)
    if tensor.shape[1] == 1 and warn_single_sample:
        warnings.warn(
            f"{name} has K = 1 posterior sample: BALD-type scores (mutual information with "
            "the parameters) are identically 0. Use MC dropout with K > 1 samples.",
            SingleSampleWarning,
            stacklevel=3,
        )
    return tensor


def _check_layout(tensor: torch.Tensor, name: str) -> None:
    """3-D, floating, N ≥ 1, K ≥ 1, C ≥ 2."""
    if tensor.dim() != 3:
        hint = (
            " If you have a single model, add a K axis with .unsqueeze(1)."
            if tensor.dim() == 2
            else ""
        )
        raise InvalidInputError(
            f"{name} must be 3-D [N, K, C] (pool points, posterior samples, classes); "
            f"got shape {tuple(tensor.shape)}.{hint}"
        )
    check_float_dtype(tensor, name)
    num_points, num_posterior_samples, num_classes = tensor.shape
    if num_points == 0:
        raise InvalidInputError(f"{name} must hold at least one pool point; got N = 0 (empty pool)")
    if num_posterior_samples == 0:
        raise InvalidInputError(f"{name} must hold at least one posterior sample; got K = 0")
    if num_classes < 2:
        raise InvalidInputError(
            f"{name} must have at least 2 classes (C ≥ 2); got C = {num_classes}. "
            "With one class every score is 0."
        )


def check_float_dtype(tensor: torch.Tensor, name: str) -> None:
    """Log-probabilities must be float32 or float64 (the one dtype check of every acquirer).

    Integers are class labels; half precision (float16, bfloat16) rounds log-probabilities by
    up to ~4e-3, more than :data:`NORMALISATION_TOLERANCE`.
    """
    if tensor.dtype in (torch.float32, torch.float64):
        return
    if not tensor.is_floating_point():
        raise InvalidInputError(
            f"{name} must be a floating tensor (float32 or float64) of log-probabilities; "
            f"got dtype {tensor.dtype}. Class labels? Pass log_softmax outputs instead."
        )
    raise InvalidInputError(
        f"{name} must be float32 or float64; got dtype {tensor.dtype} (half precision rounds "
        "log-probabilities beyond the normalisation tolerance). Convert with .float() before "
        "log_softmax, or .float() the result."
    )


def _check_finite(tensor: torch.Tensor, name: str) -> None:
    """No NaN and no +inf (one pass: max propagates NaN, and +inf is the largest value)."""
    largest = tensor.max().item()
    if math.isnan(largest):
        count = int(torch.isnan(tensor).sum())
        raise InvalidInputError(f"{name} must not contain NaN; got {count} NaN entries")
    if largest == math.inf:
        count = int(torch.isposinf(tensor).sum())
        raise InvalidInputError(
            f"{name} must be log-probabilities (≤ 0); got {count} entries equal to +inf"
        )


def check_normalisation_deviation(deviation: float, name: str = "log_probs_N_K_C") -> None:
    """Raise unless ``deviation`` = max |Σ_c p - 1| is within :data:`NORMALISATION_TOLERANCE`."""
    if not deviation <= NORMALISATION_TOLERANCE:
        raise InvalidInputError(
            f"rows of {name} must be normalised (probabilities summing to 1 over C, tolerance "
            f"{NORMALISATION_TOLERANCE:g}); the largest deviation is {deviation:.3g} — "
            "did you pass logits or probabilities? apply log_softmax"
        )


def _max_normalisation_deviation(tensor_N_K_C: torch.Tensor) -> float:
    """max_n,k |Σ_c p - 1| in the input dtype, in slices so memory stays bounded for any N.

    Overflowing rows (logits ≫ 0) give inf, which is reported as such.
    """

    def deviation_n(chunk: torch.Tensor) -> torch.Tensor:
        return (chunk.exp().sum(dim=-1, dtype=torch.float64) - 1.0).abs().amax(dim=-1)

    return map_rows(deviation_n, tensor_N_K_C).max().item()


def check_same_pool(
    first: torch.Tensor, second: torch.Tensor, first_name: str, second_name: str
) -> None:
    """Two log-prob tensors must describe the same pool: equal N, K and C."""
    if first.shape != second.shape:
        raise InvalidInputError(
            f"{second_name} must have the same shape [N, K, C] as {first_name} "
            f"{tuple(first.shape)}; got {tuple(second.shape)}"
        )


def check_scores(scores_N: Any, name: str = "scores_N") -> torch.Tensor:
    """Validate a 1-D, non-empty, finite floating score vector."""
    tensor = as_tensor(scores_N, name)
    if tensor.dim() != 1:
        raise InvalidInputError(f"{name} must be 1-D [N]; got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        raise InvalidInputError(f"{name} must hold at least one score; got N = 0 (empty pool)")
    if not tensor.is_floating_point():
        tensor = tensor.double()
    if not torch.isfinite(tensor).all():
        raise InvalidInputError(
            f"{name} must be finite; got {int((~torch.isfinite(tensor)).sum())} NaN/inf entries"
        )
    return tensor


def check_batch_size(batch_size: Any, pool_size: int, name: str = "batch_size") -> int:
    """``batch_size`` must be an int with 1 ≤ batch_size ≤ pool_size."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an int; got {type(batch_size).__name__}")
    batch_size = int(batch_size)
    if batch_size < 1:
        raise InvalidInputError(f"{name} must be ≥ 1; got {batch_size}")
    if batch_size > pool_size:
        raise InvalidInputError(
            f"{name} must be ≤ the pool size N = {pool_size}; got {batch_size} "
            "(batch larger than the pool)"
        )
    return batch_size


def check_positive_int(value: Any, name: str) -> int:
    """``value`` must be an int ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
    return int(value)


def check_memory_budget(max_memory_bytes: Any, name: str = "max_memory_bytes") -> int:
    """A memory budget must be a positive number of bytes."""
    if isinstance(max_memory_bytes, bool) or not isinstance(
        max_memory_bytes, (int, float, np.integer)
    ):
        raise InvalidInputError(f"{name} must be a number of bytes; got {max_memory_bytes!r}")
    if not math.isfinite(max_memory_bytes) or max_memory_bytes <= 0:
        raise InvalidInputError(
            f"{name} must be a positive number of bytes; got {max_memory_bytes!r}"
        )
    return int(max_memory_bytes)


def check_generator(generator: Any, name: str = "generator") -> torch.Generator | None:
    """``generator`` must be None or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidInputError(
            f"{name} must be a torch.Generator or None; got {type(generator).__name__}. "
            "Make one with torch.Generator().manual_seed(seed)."
        )
    return generator


_DTYPE_NAMES = {"float32": torch.float32, "float64": torch.float64}


def check_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """``dtype`` must be ``torch.float32`` or ``torch.float64``, or its name.

    The joint-probability precision; ``"float32"`` / ``"float64"`` as a TOML config writes it.
    """
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if dtype not in (torch.float32, torch.float64):
        raise InvalidInputError(
            f'{name} must be torch.float32 or torch.float64 (or "float32" / "float64"); '
            f"got {dtype!r}"
        )
    return dtype


def check_sampling_options(
    num_samples: Any, generator: Any, dtype: Any, max_memory_bytes: Any
) -> tuple[int, torch.Generator | None, torch.dtype, int]:
    """The keyword arguments every greedy batch rule shares (BatchBALD, BatchEIG, ...).

    Returns ``(num_samples, generator, dtype, max_memory_bytes)`` checked by
    :func:`check_positive_int`, :func:`check_generator`, :func:`check_dtype` and
    :func:`check_memory_budget`.
    """
    return (
        check_positive_int(num_samples, "num_samples"),
        check_generator(generator),
        check_dtype(dtype),
        check_memory_budget(max_memory_bytes),
    )


def check_pair(
    log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any, *, warn_single_sample: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate both log-prob tensors and check they describe the same pool (equal N, K, C)."""
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=warn_single_sample)
    eval_log_probs = check_log_probs(
        eval_log_probs_N_K_C, "eval_log_probs_N_K_C", warn_single_sample=warn_single_sample
    )
    check_same_pool(log_probs, eval_log_probs, "log_probs_N_K_C", "eval_log_probs_N_K_C")
    return log_probs, eval_log_probs
