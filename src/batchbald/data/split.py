"""The labelled / pool / validation bookkeeping of an active-learning run.

Two index spaces, never mixed up:

- **dataset indices** ``0 .. dataset_size - 1``: rows of the :class:`ImageData`;
- **pool positions** ``0 .. pool_size - 1``: rows of the pool as the acquirer sees it. Pool
  position p is dataset index ``pool_indices[p]``, and ``pool_indices`` is sorted ascending,
  so positions are stable between acquisitions except for the removed points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from batchbald.data._checks import check_index_vector, check_int
from batchbald.errors import InvalidInputError

__all__ = ["ActiveLearningData"]

_POOL, _LABELLED, _VALIDATION = 0, 1, 2
_STATE_VERSION = 1


class ActiveLearningData:
    """Which dataset indices are labelled (in acquisition order), in the pool, or validation.

    Args:
        dataset_size: N, the number of rows.
        labelled_indices: the initial labelled set (dataset indices).
        validation_indices: held-out labelled points for early stopping (dataset indices).

    >>> split = ActiveLearningData(6, labelled_indices=[4], validation_indices=[0])
    >>> split.pool_indices.tolist()
    [1, 2, 3, 5]
    >>> split.acquire([0, 3]).tolist()  # pool positions 0 and 3 are dataset indices 1 and 5
    [1, 5]
    >>> split.labelled_indices.tolist(), split.pool_indices.tolist()
    ([4, 1, 5], [2, 3])
    """

    def __init__(
        self,
        dataset_size: int,
        *,
        labelled_indices: Sequence[int] | torch.Tensor = (),
        validation_indices: Sequence[int] | torch.Tensor = (),
    ) -> None:
        self._size = check_int(dataset_size, "dataset_size")
        self._status = torch.full((self._size,), _POOL, dtype=torch.int8)
        self._labelled: list[int] = []
        self._pool_cache: torch.Tensor | None = None
        validation = check_index_vector(validation_indices, "validation_indices", self._size)
        _check_unique(validation, "validation_indices")
        self._status[validation] = _VALIDATION
        self._validation = torch.sort(validation).values
        self.acquire_dataset_indices(labelled_indices)

    @property
    def dataset_size(self) -> int:
        """N, the number of points in the dataset the indices refer to."""
        return self._size

    @property
    def labelled_indices(self) -> torch.Tensor:
        """int64 dataset indices of the labelled points, in acquisition order."""
        return torch.tensor(self._labelled, dtype=torch.long)

    @property
    def pool_indices(self) -> torch.Tensor:
        """int64 dataset indices of the pool, ascending: pool position p -> ``[p]``."""
        if self._pool_cache is None:
            self._pool_cache = torch.nonzero(self._status == _POOL).flatten()
        return self._pool_cache.clone()

    @property
    def validation_indices(self) -> torch.Tensor:
        """int64 dataset indices of the validation set, ascending."""
        return self._validation.clone()

    @property
    def num_labelled(self) -> int:
        """Labelled points (initial set included)."""
        return len(self._labelled)

    @property
    def pool_size(self) -> int:
        """Points still in the pool."""
        return len(self.pool_indices)

    def acquire(self, pool_positions: Sequence[int] | torch.Tensor) -> torch.Tensor:
        """Move the points at ``pool_positions`` from the pool to the labelled set.

        Returns:
            int64 ``[b]`` dataset indices of the acquired points, in the given order.

        Raises:
            InvalidInputError: a position is out of range or repeated; nothing changes then.
        """
        pool = self.pool_indices
        positions = check_index_vector(pool_positions, "pool_positions", len(pool))
        _check_unique(positions, "pool_positions", pool)
        dataset_indices = pool[positions]
        self._move_to_labelled(dataset_indices)
        return dataset_indices

    def acquire_dataset_indices(
        self, dataset_indices: Sequence[int] | torch.Tensor
    ) -> torch.Tensor:
        """Move the points with these dataset indices from the pool to the labelled set.

        Raises:
            InvalidInputError: an index is out of range, repeated in the call, already
                labelled or in the validation set (named in the message); nothing changes.
        """
        indices = check_index_vector(dataset_indices, "dataset_indices", self._size)
        _check_unique(indices, "dataset_indices")
        status = self._status[indices]
        for code, where in (
            (_LABELLED, "already labelled"),
            (_VALIDATION, "in the validation set"),
        ):
            clash = indices[status == code]
            if clash.numel():
                raise InvalidInputError(
                    f"cannot acquire dataset index {int(clash[0])}: it is {where} "
                    f"({clash.numel()} such index(es) in this call: {clash[:10].tolist()})"
                )
        self._move_to_labelled(indices)
        return indices

    def _move_to_labelled(self, dataset_indices: torch.Tensor) -> None:
        self._status[dataset_indices] = _LABELLED
        self._labelled.extend(dataset_indices.tolist())
        self._pool_cache = None

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON-able state of the split.

        The keys are ``dataset_size``, ``labelled_indices`` (in order), ``validation_indices``
        and a format ``version``.
        """
        return {
            "version": _STATE_VERSION,
            "dataset_size": self._size,
            "labelled_indices": list(self._labelled),
            "validation_indices": self._validation.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> ActiveLearningData:
        """Rebuild a split saved by :meth:`state_dict` (validated like the constructor)."""
        keys = ("dataset_size", "labelled_indices", "validation_indices")
        missing = [key for key in keys if key not in state] if isinstance(state, Mapping) else keys
        if missing:
            raise InvalidInputError(
                f"state must be a mapping with keys {list(keys)}; missing {list(missing)}"
            )
        if state.get("version", _STATE_VERSION) != _STATE_VERSION:
            raise InvalidInputError(
                f"state version must be {_STATE_VERSION}; got {state.get('version')!r}"
            )
        return cls(
            state["dataset_size"],
            labelled_indices=list(state["labelled_indices"]),
            validation_indices=list(state["validation_indices"]),
        )

    def __repr__(self) -> str:
        return (
            f"ActiveLearningData(dataset_size={self._size}, labelled={self.num_labelled}, "
            f"pool={self.pool_size}, validation={len(self._validation)})"
        )


def _check_unique(indices: torch.Tensor, name: str, pool: torch.Tensor | None = None) -> None:
    values, counts = torch.unique(indices, return_counts=True)
    repeated = values[counts > 1]
    if repeated.numel():
        value = int(repeated[0])
        detail = f" (dataset index {int(pool[value])})" if pool is not None else ""
        raise InvalidInputError(
            f"{name} must not repeat an index; {value}{detail} appears "
            f"{int(counts[counts > 1][0])} times"
        )
