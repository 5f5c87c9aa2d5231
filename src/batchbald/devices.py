"""Which torch devices this machine has: the one check behind every ``device`` setting.

A config written on a GPU machine and run on a laptop names ``device = "cuda"``; the check
happens when the setting is read (config load, ``TrainingConfig``), so the error names the
setting and the devices that exist instead of a CUDA traceback from the first training step.
"""

from __future__ import annotations

import torch

__all__ = ["available_devices", "device_problem"]


def available_devices() -> list[str]:
    """The devices torch can use here: ``cpu``, then ``cuda:0``..., then ``mps``.

    >>> available_devices()[0]
    'cpu'
    """
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def device_problem(device: object) -> str | None:
    """Why ``device`` cannot be used on this machine, or None when it can.

    The text completes "must be a device this machine has; got 'cuda': ..." (the callers add the
    setting's name).

    >>> device_problem("cpu") is None
    True
    >>> device_problem("tpu")
    "not a torch device string (such as 'cpu', 'cuda', 'cuda:1')"
    """
    try:
        parsed = torch.device(device)  # type: ignore[arg-type]
    except (RuntimeError, TypeError, ValueError):
        return "not a torch device string (such as 'cpu', 'cuda', 'cuda:1')"
    if parsed.type == "cpu":
        return None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            return "torch finds no CUDA device here"
        if parsed.index is not None and parsed.index >= count:
            return f"this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
        return None
    if parsed.type == "mps" and "mps" in available_devices():
        return None
    return f"torch cannot train on {parsed.type!r} here"
