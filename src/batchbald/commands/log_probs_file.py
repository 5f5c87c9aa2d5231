"""Reading ``[N, K, C]`` log-probabilities saved by any framework (``.npy`` or ``.pt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchbald.errors import InvalidInputError

__all__ = ["LOG_PROBS_LAYOUT", "load_log_probs"]

LOG_PROBS_LAYOUT = """\
LOG_PROBS layout: a .npy file (numpy.save) or a .pt file (torch.save of a tensor) holding
float32/float64 log-probabilities of shape [N, K, C]: N pool points, K posterior samples (e.g.
MC dropout masks, ensemble members; the same K masks for every point), C classes; each row
log_probs[n, k, :] is a log_softmax output (logsumexp over C = 0). Picks are pool indices,
i.e. row numbers n of that array."""


def load_log_probs(path: str | Path, name: str = "LOG_PROBS") -> Any:
    """Read a ``[N, K, C]`` array from ``.npy`` (numpy.save) or ``.pt`` (torch.save) as a tensor.

    Args:
        path: the file.
        name: how error messages name the file (the CLI argument it came from).

    Returns:
        The stored tensor, on the CPU (its shape and values are checked by the acquirer).

    Raises:
        DataError: the file is missing, a directory, of another format than its suffix says
            (named: a torch file called ``.npy``, random bytes, ...), a pickle that torch
            refuses (``weights_only``), or an array of strings or objects
            (:mod:`batchbald.data.array_files`, the check every data file reader shares).
        InvalidInputError: another suffix, or a ``.pt`` that does not hold one tensor.
    """
    import torch

    from batchbald.data.array_files import load_npy, load_torch

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".pt", ".pth"):
        raise InvalidInputError(f"{name} must be a .npy or .pt file; got {path.name!r}")
    if suffix == ".npy":
        array = load_npy(path, f"{name} file")
        return torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=False))
    value = load_torch(path, f"{name} file")
    if not isinstance(value, torch.Tensor):
        raise InvalidInputError(
            f"{name} file {str(path)!r} must hold a single tensor (torch.save(log_probs, path)); "
            f"got {type(value).__name__}"
        )
    return value
