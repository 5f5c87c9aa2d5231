"""The BatchBALD paper's MNIST and EMNIST CNNs with consistent MC dropout (docs/protocol.md §1).

Each model has two equal computations: :meth:`stochastic` follows the published layer order
literally (used in training and as the reference), and :meth:`scoring_log_probs` is an exact
reformulation for eval mode with consistent masks (see :mod:`batchbald.models.fast`), about an
order of magnitude faster on the MNIST CNN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import InvalidInputError
from batchbald.models.base import BayesianModule, check_k
from batchbald.models.dropout import (
    ConsistentMCDropout,
    ConsistentMCDropout2d,
    _ConsistentDropout,
)
from batchbald.models.fast import masked_conv, masked_conv_maxpool, max_pool_2x2
from batchbald.models.init import init_weights

__all__ = ["EMNISTBayesianCNN", "MNISTBayesianCNN"]

INPUT_SHAPE = (1, 28, 28)


def _check_num_classes(num_classes: object) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise InvalidInputError(f"num_classes must be an int ≥ 2; got {num_classes!r}")
    return num_classes


def _check_inputs(inputs: torch.Tensor, model: str) -> None:
    if inputs.dim() != 4 or tuple(inputs.shape[1:]) != INPUT_SHAPE:
        raise InvalidInputError(
            f"{model} expects inputs of shape [B, 1, 28, 28]; got {tuple(inputs.shape)}"
        )


class _PaperCNN(BayesianModule):
    """Shared plumbing: the first two convolutions, the head, input checks, the fast path.

    Layers are registered in the order conv1, conv2, (subclass layers), fc1, fc2, which is
    the order :func:`init_weights` draws their weights in.
    """

    parallel_chunks = True  # the fast path reads the prepared masks and the weights only

    def __init__(self, num_classes: int, p: float, kernel_size: int) -> None:
        super().__init__()
        self.num_classes = _check_num_classes(num_classes)
        self.conv1 = nn.Conv2d(1, 32, kernel_size=kernel_size)
        self.conv1_drop = ConsistentMCDropout2d(p)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=kernel_size)
        self.conv2_drop = ConsistentMCDropout2d(p)

    def _add_head(
        self, features: int, hidden: int, p: float, generator: torch.Generator | None
    ) -> None:
        """Linear features→hidden → dropout → fc hidden→C, then the weights (if ``generator``)."""
        self.fc1 = nn.Linear(features, hidden)
        self.fc1_drop = ConsistentMCDropout(p)
        self.fc2 = nn.Linear(hidden, self.num_classes)
        if generator is not None:
            init_weights(self, generator)

    def _head(
        self, hidden: torch.Tensor, k: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Max-pool 2 → ReLU → flatten → fc1 → dropout → ReLU → fc2 → log_softmax."""
        hidden = F.relu(F.max_pool2d(hidden, 2)).flatten(1)
        hidden = F.relu(self.fc1_drop(self.fc1(hidden), k, generator=generator))
        return F.log_softmax(self.fc2(hidden), dim=1)

    def _features(self, hidden: torch.Tensor) -> torch.Tensor:
        """The head's fc1 ReLU output with dropout off (the input of fc2): ``[B, hidden]``."""
        return F.relu(self.fc1(F.relu(F.max_pool2d(hidden, 2)).flatten(1)))

    def scoring_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        """Exact fast ``log_probs_B_K_C`` (eval mode, prepared masks); see :mod:`.fast`."""
        k = check_k(k)
        _check_inputs(inputs, type(self).__name__)
        if not self._fast_path_applies():
            return super().scoring_log_probs(inputs, k)
        return self._fast_log_probs(inputs, k)

    def _fast_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        raise NotImplementedError

    def _fast_path_applies(self) -> bool:
        return not self.training and all(layer.enabled for layer in self.dropout_layers())

    def _masks(
        self, layer: _ConsistentDropout, feature_shape: tuple[int, ...], like: torch.Tensor
    ) -> torch.Tensor:
        """The layer's K prepared masks as ``[K, C]`` (channel) or ``[K, F]`` (element-wise)."""
        masks = layer.consistent_masks(feature_shape, dtype=like.dtype, device=like.device)
        return masks.flatten(1)

    def deterministic(self, inputs: torch.Tensor) -> torch.Tensor:
        """The first convolution (before the first dropout), once per input."""
        return self.conv1(inputs)

    def forward(
        self, inputs: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Check the inputs' shape, then :meth:`BayesianModule.forward`."""
        _check_inputs(inputs, type(self).__name__)
        return super().forward(inputs, k, generator=generator)


class MNISTBayesianCNN(_PaperCNN):
    """The BatchBALD paper's MNIST CNN.

    conv 1→32 5×5 → dropout2d → maxpool 2 → ReLU → conv 32→64 5×5 → dropout2d → maxpool 2 →
    ReLU → flatten 1024 → fc 128 → dropout → ReLU → fc C → log_softmax.

    Args:
        num_classes: C (10 for MNIST).
        p: dropout probability of every dropout layer.
        generator: when given, weights are initialised from it (:func:`init_weights`), so the
            same generator state gives the same network; when None, torch's default
            initialisation from the global RNG.
    """

    #: The fast path holds conv2's per-channel contributions, 128 KiB per input whatever k is:
    #: 12 inputs keep them in a core's L2 cache. At k = 20, 12 inputs per chunk scored 1.49x
    #: faster than the 1,024-row default (51 inputs); at k = 100 the default (10 inputs) is
    #: kept (docs/performance.md, "Scoring chunks").
    scoring_inputs_per_chunk = 12

    def __init__(
        self, num_classes: int = 10, *, p: float = 0.5, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(num_classes, p, kernel_size=5)
        self._add_head(1024, 128, p, generator)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """fc1's ReLU output with dropout off: ``[B, 128]``."""
        _check_inputs(inputs, type(self).__name__)
        return self._features(self.conv2(F.relu(F.max_pool2d(self.conv1(inputs), 2))))

    def stochastic(
        self, hidden: torch.Tensor, k: int, *, generator: torch.Generator | None
    ) -> torch.Tensor:
        """The layers from the first dropout on, over ``[B·K, ...]`` activations."""
        hidden = F.relu(F.max_pool2d(self.conv1_drop(hidden, k, generator=generator), 2))
        return self._head(self.conv2_drop(self.conv2(hidden), k, generator=generator), k, generator)

    def _fast_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        batch = inputs.shape[0]
        # mask1 commutes with maxpool and ReLU: pool the deterministic conv1 output once.
        hidden_B = max_pool_2x2(self.conv1(inputs)).relu_()  # [B, 32, 12, 12]
        masks1 = self._masks(self.conv1_drop, (32, 24, 24), hidden_B)
        masks2 = self._masks(self.conv2_drop, (64, 8, 8), hidden_B)
        masks3 = self._masks(self.fc1_drop, (128,), hidden_B)
        hidden = masked_conv_maxpool(hidden_B, masks1, self.conv2, 2)  # [B, K, 64, 4, 4]
        hidden = hidden.relu_().mul_(masks2.view(k, 64, 1, 1))
        hidden = self.fc1(hidden.view(batch, k, 1024)).relu_().mul_(masks3)
        return F.log_softmax(self.fc2(hidden), dim=-1)


class EMNISTBayesianCNN(_PaperCNN):
    """The BatchBALD paper's EMNIST CNN.

    conv 1→32 3×3 → dropout2d → maxpool 2 → ReLU → conv 32→64 3×3 → dropout2d → ReLU →
    conv 64→128 3×3 → dropout2d → maxpool 2 → ReLU → flatten 2048 → fc 512 → dropout → ReLU →
    fc C → log_softmax.

    Args:
        num_classes: C (47 for EMNIST Balanced).
        p: dropout probability of every dropout layer.
        generator: weight initialisation source, as in :class:`MNISTBayesianCNN`.
    """

    def __init__(
        self, num_classes: int = 47, *, p: float = 0.5, generator: torch.Generator | None = None
    ) -> None:
        super().__init__(num_classes, p, kernel_size=3)
        self.conv3 = nn.Conv2d(64, 128, kernel_size=3)
        self.conv3_drop = ConsistentMCDropout2d(p)
        self._add_head(2048, 512, p, generator)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """fc1's ReLU output with dropout off: ``[B, 512]``."""
        _check_inputs(inputs, type(self).__name__)
        hidden = F.relu(self.conv2(F.relu(F.max_pool2d(self.conv1(inputs), 2))))
        return self._features(self.conv3(hidden))

    def stochastic(
        self, hidden: torch.Tensor, k: int, *, generator: torch.Generator | None
    ) -> torch.Tensor:
        """The layers from the first dropout on, over ``[B·K, ...]`` activations."""
        hidden = F.relu(F.max_pool2d(self.conv1_drop(hidden, k, generator=generator), 2))
        hidden = F.relu(self.conv2_drop(self.conv2(hidden), k, generator=generator))
        return self._head(self.conv3_drop(self.conv3(hidden), k, generator=generator), k, generator)

    def _fast_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        """Conv1 once, conv2 by channel recombination, conv3 per (input, mask)."""
        batch = inputs.shape[0]
        hidden_B = max_pool_2x2(self.conv1(inputs)).relu_()  # [B, 32, 13, 13]
        masks1 = self._masks(self.conv1_drop, (32, 26, 26), hidden_B)
        masks2 = self._masks(self.conv2_drop, (64, 11, 11), hidden_B)
        masks3 = self._masks(self.conv3_drop, (128, 9, 9), hidden_B)
        masks4 = self._masks(self.fc1_drop, (512,), hidden_B)
        hidden = masked_conv(hidden_B, masks1, self.conv2)  # [B, K, 64, 11, 11]
        hidden = hidden.relu_().mul_(masks2.view(k, 64, 1, 1))
        # [B, K, 64, 11, 11] -> [B·K, 64, 11, 11]; conv3 must run per (input, mask).
        hidden = max_pool_2x2(self.conv3(hidden.view(batch * k, 64, 11, 11)))
        hidden = hidden.view(batch, k, 128, 4, 4).relu_().mul_(masks3.view(k, 128, 1, 1))
        hidden = self.fc1(hidden.view(batch, k, 2048)).relu_().mul_(masks4)
        return F.log_softmax(self.fc2(hidden), dim=-1)
