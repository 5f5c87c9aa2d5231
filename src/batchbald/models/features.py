"""Backbone features computed once per input and cached while the backbone does not change.

A frozen backbone maps the same input to the same features at every acquisition step, so the
last-layer posteriors (:mod:`batchbald.models.last_layer`) look features up by the content of
each input row; the cache is emptied when the backbone's parameters or buffers change (its key
is a hash of the backbone's state dict).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn

__all__ = ["FeatureCache", "backbone_fingerprint", "row_digests"]


def backbone_fingerprint(backbone: nn.Module) -> bytes:
    """BLAKE2b digest of every state-dict entry's name, dtype, shape and bytes."""
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in backbone.state_dict().items():
        array = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}|{array.dtype}|{tuple(array.shape)}".encode())
        digest.update(array.view(torch.uint8).numpy().tobytes() if array.numel() else b"")
    return digest.digest()


def row_digests(inputs: torch.Tensor) -> list[bytes]:
    """One 16-byte BLAKE2b digest per row of ``inputs`` ``[N, ...]`` (its bytes and shape)."""
    rows = inputs.detach().cpu().contiguous().reshape(inputs.shape[0], -1)
    raw = np.ascontiguousarray(rows.numpy()).view(np.uint8).reshape(inputs.shape[0], -1)
    tag = f"{inputs.dtype}|{tuple(inputs.shape[1:])}".encode()
    return [hashlib.blake2b(tag + row.tobytes(), digest_size=16).digest() for row in raw]


class FeatureCache:
    """Features ``[D]`` per input row for one backbone state; shared across loop steps.

    Args:
        batch_size: inputs per backbone call when computing missing features (memory only).
    """

    def __init__(self, batch_size: int = 256) -> None:
        self.batch_size = batch_size
        self._key: bytes | None = None
        self._index: dict[bytes, int] = {}
        self._store: torch.Tensor | None = None
        self.computed = 0  # rows computed by the backbone so far (for tests and benchmarks)
        self._versions: tuple = ()
        self._version_key: bytes = b""
        self._held: list[torch.Tensor] = []

    def __len__(self) -> int:
        """Number of cached rows."""
        return len(self._index)

    def clear(self) -> None:
        """Forget every cached feature."""
        self._key, self._index, self._store = None, {}, None

    def _fingerprint(self, backbone: nn.Module) -> bytes:
        """:func:`backbone_fingerprint`, rehashed only when a tensor was replaced or changed.

        Tensor identities and autograd version counters (bumped by in-place changes) are
        compared first; the tensors are held so that their identities cannot be reused.
        """
        tensors = list(backbone.state_dict(keep_vars=True).values())
        versions = tuple((id(t), t._version) for t in tensors)
        if versions != self._versions:
            self._versions, self._version_key = versions, backbone_fingerprint(backbone)
            self._held = tensors  # keeps the ids above from being reused by other tensors
        return self._version_key

    @torch.no_grad()
    def features(self, backbone: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        """Features ``[N, D]`` of ``inputs`` ``[N, ...]``: cached rows looked up, others computed.

        The backbone runs in eval mode (batch norm uses its running statistics) on its own
        device; the result is float32 on the device of ``inputs``.
        """
        key = self._fingerprint(backbone)
        if key != self._key:
            self.clear()
            self._key = key
        digests = row_digests(inputs)
        first: dict[bytes, int] = {}
        for row, digest in enumerate(digests):
            if digest not in self._index:
                first.setdefault(digest, row)
        missing = list(first.values())
        if missing:
            self._add(backbone, inputs, missing, digests)
        rows = torch.tensor([self._index[digest] for digest in digests], dtype=torch.long)
        assert self._store is not None
        return self._store[rows].to(inputs.device)

    def _add(
        self, backbone: nn.Module, inputs: torch.Tensor, missing: list[int], digests: list[bytes]
    ) -> None:
        parameter = next(backbone.parameters(), torch.zeros(()))
        was_training = backbone.training
        backbone.eval()
        parts = []
        try:
            for start in range(0, len(missing), self.batch_size):
                chunk = inputs[missing[start : start + self.batch_size]]
                out = backbone(chunk.to(parameter.device, parameter.dtype))
                parts.append(out.flatten(1).float().cpu())
        finally:
            backbone.train(was_training)
        new = torch.cat(parts)
        offset = len(self._index)
        needed = offset + new.shape[0]
        if self._store is None or self._store.shape[0] < needed:
            # Capacity doubles, so filling the cache chunk by chunk copies O(N) rows in total.
            grown = torch.empty(max(needed, 2 * offset), new.shape[1], dtype=new.dtype)
            if self._store is not None:
                grown[:offset] = self._store[:offset]
            self._store = grown
        self._store[offset:needed] = new
        for position, row in enumerate(missing):
            self._index[digests[row]] = offset + position
        self.computed += len(missing)
