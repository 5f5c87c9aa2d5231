"""Peer libraries for ``benchmarks/acquisition.py``: batchbald_redux and baal, imported lazily.

The library never imports these; only the benchmark does, and only inside a worker process, so a
missing peer is reported as "not installed" instead of failing the run. Each peer gets its input
in its own native layout, prepared *before* timing starts (generous to the peers):

- batchbald_redux: log-probabilities ``[N, K, C]`` (torch, float32), the same tensor as ours.
- baal: probabilities ``[N, C, K]`` (numpy, float32), the layout its ModelWrapper produces.

Peer randomness comes from the global RNGs (their APIs take no generator), seeded per run here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

import numpy as np
import torch

__all__ = ["PEERS", "PeerNotInstalledError", "peer_version", "prepare", "run"]

# Display name -> distribution name on PyPI.
PEERS = {"batchbald_redux": "batchbald_redux", "baal": "baal"}


class PeerNotInstalledError(RuntimeError):
    """The peer distribution is not installed (``pip install -c constraints.txt -e '.[bench]'``)."""


def peer_version(peer: str) -> str | None:
    """The installed version of ``peer``, or None when it is not installed."""
    try:
        return importlib.metadata.version(PEERS[peer])
    except importlib.metadata.PackageNotFoundError:
        return None


def prepare(peer: str, log_probs_N_K_C: torch.Tensor) -> Any:
    """The peer's native input for the pool ``log_probs_N_K_C`` (float32 ``[N, K, C]``)."""
    if peer_version(peer) is None:
        raise PeerNotInstalledError(f"{peer} is not installed")
    # Import now, so the import's memory is not counted as the acquisition's.
    if peer == "batchbald_redux":
        importlib.import_module("batchbald_redux.batchbald")
        return log_probs_N_K_C
    if peer == "baal":
        importlib.import_module("baal.active.heuristics")
        # [N, K, C] -> [N, C, K] probabilities, contiguous like baal's MC-sampling output.
        return np.ascontiguousarray(log_probs_N_K_C.exp().permute(0, 2, 1).numpy())
    raise ValueError(f"peer must be one of {sorted(PEERS)}; got {peer!r}")


def run(
    peer: str, method: str, native: Any, batch_size: int, num_samples: int, seed: int
) -> tuple[list[int], list[float] | None]:
    """One acquisition by ``peer``: the picked pool indices (pick order where defined), and the
    scores where they are comparable with ours (batchbald_redux's BatchBALD: the cumulative
    joint MI after each pick), else None.

    Args:
        peer: "batchbald_redux" or "baal".
        method: "batchbald" or "bald".
        native: the output of :func:`prepare`.
        batch_size: b.
        num_samples: M, the number of sampled label configurations (BatchBALD only). baal draws
            ``num_draw`` configurations per posterior sample, so it gets ``num_draw = M // K``.
        seed: seeds torch's (and numpy's) global RNG before the call.
    """
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (the peers use the global numpy RNG)
    if peer == "batchbald_redux":
        return _run_redux(method, native, batch_size, num_samples)
    if peer == "baal":
        return _run_baal(method, native, batch_size, num_samples)
    raise ValueError(f"peer must be one of {sorted(PEERS)}; got {peer!r}")


def _run_redux(
    method: str, log_probs_N_K_C: torch.Tensor, batch_size: int, num_samples: int
) -> tuple[list[int], list[float] | None]:
    from batchbald_redux.batchbald import get_bald_batch, get_batchbald_batch

    if method == "batchbald":
        batch = get_batchbald_batch(
            log_probs_N_K_C, batch_size, num_samples, dtype=torch.double, device="cpu"
        )
    elif method == "bald":
        return [int(index) for index in get_bald_batch(log_probs_N_K_C, batch_size).indices], None
    else:
        raise ValueError(f"method must be 'batchbald' or 'bald'; got {method!r}")
    return [int(index) for index in batch.indices], [float(score) for score in batch.scores]


def _run_baal(
    method: str, probs_N_C_K: np.ndarray, batch_size: int, num_samples: int
) -> tuple[list[int], None]:
    from baal.active.heuristics import BALD, BatchBALD

    if method == "batchbald":
        num_draw = max(1, num_samples // probs_N_C_K.shape[2])
        heuristic = BatchBALD(num_samples=batch_size, num_draw=num_draw)
    elif method == "bald":
        heuristic = BALD()
    else:
        raise ValueError(f"method must be 'batchbald' or 'bald'; got {method!r}")
    # The heuristic ranks the whole pool by decreasing score; the batch is the top b.
    ranks = heuristic(probs_N_C_K)
    return [int(index) for index in ranks[:batch_size]], None
