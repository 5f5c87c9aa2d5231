"""Consistent MC dropout: K masks drawn once and shared by every pool point (BatchBALD §4).

Layers receive activations flattened to ``[B·K, ...]`` (B inputs, K posterior samples, sample
index fastest) together with ``k``. Three behaviours:

* ``training`` mode: a fresh mask for every row (every example and sample), as ordinary dropout;
  drawn from the ``generator`` passed to ``forward``.
* eval mode with masks prepared by :meth:`prepare_masks` (``predict_log_probs`` does this): the
  K masks ``[1, K, ...]`` are broadcast over all B inputs, and stay the same across calls (pool
  chunks) until :meth:`reset_masks`. A prepared layer draws its masks lazily at the first forward
  from a private generator seeded by the caller's generator at preparation time, so the masks do
  not depend on the chunk size nor on the order of calls.
* disabled (``enabled = False``, see :func:`~batchbald.models.base.mc_dropout_disabled`): identity,
  which equals ordinary inverted dropout at test time (the paper's "dropout off" validation).

Kept activations are scaled by ``1 / (1 - p)`` (inverted dropout), so masks take values in
``{0, 1 / (1 - p)}``: non-negative, which lets masks commute with ReLU and max-pooling.
"""

from __future__ import annotations

import torch
from torch import nn

from batchbald.errors import InvalidInputError

__all__ = ["ConsistentMCDropout", "ConsistentMCDropout2d"]

_SEED_BOUND = 2**62


class _ConsistentDropout(nn.Module):
    """Shared machinery; subclasses define which axes share one Bernoulli draw."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not (isinstance(p, (int, float)) and 0.0 <= float(p) < 1.0):
            raise InvalidInputError(f"dropout probability p must be in [0, 1); got {p!r}")
        self.p = float(p)
        self.enabled = True
        self._k: int | None = None
        self._seed: int | None = None
        self._masks: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def mask_shape(self, feature_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one mask for activations of ``feature_shape`` (without the batch axis)."""
        raise NotImplementedError

    def prepare_masks(self, k: int, *, generator: torch.Generator | None = None) -> None:
        """Fix the K consistent masks used in eval mode (drawn lazily, seeded now).

        Args:
            k: number of posterior samples K ≥ 1.
            generator: source of the seed; consumed by exactly one draw.
        """
        device = generator.device if generator is not None else "cpu"
        seed = torch.randint(_SEED_BOUND, (1,), generator=generator, device=device)
        self._k, self._seed, self._masks = int(k), int(seed.item()), None

    def reset_masks(self) -> None:
        """Forget the consistent masks; the next eval-mode use needs :meth:`prepare_masks`."""
        self._k, self._seed, self._masks = None, None, None

    @property
    def prepared_samples(self) -> int | None:
        """K of the prepared masks, or None when no masks are prepared."""
        return self._k

    def consistent_masks(
        self, feature_shape: tuple[int, ...], *, dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """The K prepared masks ``[K, *mask_shape(feature_shape)]`` in ``dtype`` on ``device``."""
        if self._k is None or self._seed is None:
            raise InvalidInputError(
                f"{type(self).__name__} is in eval mode but has no consistent masks; call "
                "model.prepare_masks(k, generator=...) first (predict_log_probs does this), "
                "or use model.train() for per-example masks"
            )
        shape = (self._k, *self.mask_shape(tuple(feature_shape)))
        if self._masks is None:
            # A private CPU generator keeps the masks identical on every device.
            private = torch.Generator().manual_seed(self._seed)
            self._masks = self._draw(shape, generator=private, device=torch.device("cpu"))
        if tuple(self._masks.shape) != shape:
            raise InvalidInputError(
                f"{type(self).__name__} masks were drawn for shape {tuple(self._masks.shape)}; "
                f"activations need {shape}. Call reset_masks() before changing input size"
            )
        return self._masks.to(dtype=dtype, device=device)

    def _draw(
        self, shape: tuple[int, ...], *, generator: torch.Generator | None, device: torch.device
    ) -> torch.Tensor:
        keep = torch.rand(shape, generator=generator, device=device) >= self.p
        return keep.to(torch.float32) / (1.0 - self.p)

    def forward(
        self, x: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Apply dropout to ``x`` of shape ``[B·K, ...]`` (sample index fastest)."""
        if not self.enabled or self.p == 0.0:
            return x
        feature_shape = tuple(x.shape[1:])
        if self.training:
            shape = (x.shape[0], *self.mask_shape(feature_shape))
            # Drawn on the generator's device, so a CPU generator gives the same masks anywhere.
            source = generator.device if generator is not None else x.device
            mask = self._draw(shape, generator=generator, device=source)
            return x * mask.to(device=x.device, dtype=x.dtype)
        if self._k is not None and self._k != k:
            raise InvalidInputError(
                f"{type(self).__name__} masks were prepared for k = {self._k}; "
                f"got k = {k}. Call prepare_masks(k) again"
            )
        masks_K = self.consistent_masks(feature_shape, dtype=x.dtype, device=x.device)
        # [B·K, ...] -> [B, K, ...] so the K masks broadcast over the B inputs.
        return (x.reshape(-1, k, *feature_shape) * masks_K.unsqueeze(0)).reshape(x.shape)


class ConsistentMCDropout(_ConsistentDropout):
    """Element-wise dropout (one Bernoulli draw per feature), e.g. after a linear layer.

    Args:
        p: drop probability in [0, 1); 0.5 in the paper.
    """

    def mask_shape(self, feature_shape: tuple[int, ...]) -> tuple[int, ...]:
        """One draw per feature: the mask has the activations' shape."""
        return feature_shape


class ConsistentMCDropout2d(_ConsistentDropout):
    """Channel dropout: one Bernoulli draw per channel of ``[C, H, W]`` activations.

    Args:
        p: drop probability in [0, 1); 0.5 in the paper.
    """

    def mask_shape(self, feature_shape: tuple[int, ...]) -> tuple[int, ...]:
        """One draw per channel: ``[C, 1, 1, ...]``."""
        if len(feature_shape) < 2:
            raise InvalidInputError(
                "ConsistentMCDropout2d needs activations [B·K, C, H, W] (at least one spatial "
                f"axis); got features of shape {feature_shape}. Use ConsistentMCDropout instead"
            )
        return (feature_shape[0],) + (1,) * (len(feature_shape) - 1)
