"""Bounded-memory helpers: split work over pool points so temporaries fit a byte budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

# Per-point scores process the pool in slices of at most this many float64 elements
# (32 MiB per float64 temporary), small enough for the cache-friendly regime and any pool size.
DEFAULT_CHUNK_ELEMENTS = 2**22


def row_slices(num_rows: int, rows_per_chunk: int) -> Iterator[slice]:
    """Consecutive slices covering ``range(num_rows)``, each at most ``rows_per_chunk`` long."""
    rows_per_chunk = max(1, int(rows_per_chunk))
    for start in range(0, num_rows, rows_per_chunk):
        yield slice(start, min(start + rows_per_chunk, num_rows))


def map_rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    tensor_N_: torch.Tensor,
    *,
    max_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> torch.Tensor:
    """Apply ``fn`` (``[n, ...] -> [n, ...]``) to row slices of ``tensor_N_`` and concatenate.

    Every row is computed by the same ``fn`` on the same values, so the result does not depend
    on ``max_elements`` beyond floating-point reduction order inside ``fn`` (which only
    reduces over non-row axes).
    """
    row_elements = max(1, tensor_N_[0].numel()) if tensor_N_.shape[0] else 1
    parts = [
        fn(tensor_N_[rows]) for rows in row_slices(tensor_N_.shape[0], max_elements // row_elements)
    ]
    return torch.cat(parts) if parts else tensor_N_.new_zeros(0, dtype=torch.float64)
