"""Last-layer posteriors over a frozen backbone: one backbone pass per input, K head samples.

:class:`LastLayerModel` splits a network into a frozen backbone (inputs -> features ``[B, D]``,
looked up in a :class:`~batchbald.models.features.FeatureCache`) and a Bayesian linear head:

* :class:`DropoutHead`: consistent MC dropout on the features, then the linear layer; the K
  masks are drawn once from the generator given to ``prepare_masks`` (as in BatchBALD §4);
* :class:`LaplaceHead`: a last-layer Laplace approximation (K-FAC GGN, :mod:`.laplace`); K
  weight samples drawn once from that generator.

Scoring a pool then costs one backbone pass per input (none when the features are cached)
plus K cheap head evaluations, instead of K full passes.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import ModelError
from batchbald.models.base import BayesianModule, check_k
from batchbald.models.dropout import _SEED_BOUND, ConsistentMCDropout
from batchbald.models.features import FeatureCache
from batchbald.models.laplace import kron_factors, kron_samples

__all__ = ["DropoutHead", "LaplaceHead", "LastLayerModel", "split_last_linear"]


def split_last_linear(module: nn.Module) -> tuple[nn.Module, nn.Linear]:
    """A copy of ``module`` whose last registered ``nn.Linear`` is the identity, and that layer.

    The copy maps inputs to the features the last linear layer received.

    Raises:
        ModelError: the module has no ``nn.Linear``.
    """
    backbone = copy.deepcopy(module)
    found = None
    for parent in backbone.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                found = (parent, name, child)
    if found is None:
        raise ModelError(
            f"a last-layer posterior needs a final nn.Linear; {type(module).__name__} has none"
        )
    parent, name, linear = found
    setattr(parent, name, nn.Identity())
    return backbone, linear


class DropoutHead(nn.Module):
    """Consistent element-wise dropout on the features, then a linear layer ``D -> C``."""

    def __init__(self, linear: nn.Linear, p: float = 0.5) -> None:
        super().__init__()
        self.dropout = ConsistentMCDropout(p)
        self.linear = linear

    def forward(self, features_BK_D: torch.Tensor, k: int, generator=None) -> torch.Tensor:
        """Logits ``[B·K, C]`` from features repeated K times (sample index fastest)."""
        return self.linear(self.dropout(features_BK_D, k, generator=generator))


class LaplaceHead(nn.Module):
    """A linear head with a last-layer Laplace posterior (K-FAC GGN, prior precision λ).

    Training mode and an unfitted head use the MAP weights; eval mode with samples prepared by
    :meth:`prepare_samples` uses K weight samples shared by every input.
    """

    def __init__(self, linear: nn.Linear, prior_precision: float = 1.0) -> None:
        super().__init__()
        if not prior_precision > 0:
            raise ModelError(f"prior_precision must be > 0; got {prior_precision!r}")
        self.linear, self.prior_precision = linear, float(prior_precision)
        classes, width = linear.out_features, linear.in_features + 1
        for name, shape in (("s_g", (classes,)), ("u_g", (classes, classes)),
                            ("s_a", (width,)), ("u_a", (width, width))):  # fmt: skip
            self.register_buffer(name, torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        self._seed: int | None = None
        self._k: int | None = None
        self._samples: tuple[torch.Tensor, torch.Tensor] | None = None

    @torch.no_grad()
    def fit_posterior(self, features_N_D: torch.Tensor) -> None:
        """Fit the K-FAC factors at the current (MAP) weights on the training features."""
        factors = kron_factors(features_N_D.cpu(), self.linear.weight.cpu(), self.linear.bias.cpu())
        for name, value in zip(("s_g", "u_g", "s_a", "u_a"), factors, strict=True):
            getattr(self, name).copy_(value)
        self.fitted.fill_(True)
        self._samples = None

    def prepare_samples(self, k: int, *, generator: torch.Generator | None = None) -> None:
        """Fix K weight samples (drawn lazily from a private generator seeded now, one draw)."""
        device = generator.device if generator is not None else "cpu"
        seed = torch.randint(_SEED_BOUND, (1,), generator=generator, device=device)
        self._k, self._seed, self._samples = k, int(seed.item()), None

    def reset_samples(self) -> None:
        """Forget the prepared samples."""
        self._k, self._seed, self._samples = None, None, None

    def _weights(self, k: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._seed is None or self._k != k:
            raise ModelError(
                "LaplaceHead in eval mode needs prepare_samples(k, generator=...) with the same "
                f"k first (predict_log_probs does this); prepared k = {self._k}, got k = {k}"
            )
        if self._samples is None:
            private = torch.Generator().manual_seed(self._seed)
            factors = (self.s_g, self.u_g, self.s_a, self.u_a)
            self._samples = kron_samples(
                self.linear.weight, self.linear.bias, tuple(f.cpu() for f in factors),
                self.prior_precision, k, generator=private,
            )  # fmt: skip
        weights, biases = self._samples
        return weights.to(like.device, like.dtype), biases.to(like.device, like.dtype)

    def forward(self, features_BK_D: torch.Tensor, k: int, generator=None) -> torch.Tensor:
        """Logits ``[B·K, C]``; sample k of the posterior for rows with sample index k."""
        if self.training or not bool(self.fitted):
            return self.linear(features_BK_D)
        weights_K_C_D, biases_K_C = self._weights(k, features_BK_D)
        features_B_K_D = features_BK_D.view(-1, k, features_BK_D.shape[-1])
        logits = torch.einsum("bkd,kcd->bkc", features_B_K_D, weights_K_C_D) + biases_K_C
        return logits.reshape(-1, logits.shape[-1])


class LastLayerModel(BayesianModule):
    """A frozen backbone with a Bayesian head; :meth:`embed` returns the backbone features.

    Args:
        backbone: inputs ``[B, ...]`` -> features ``[B, D]``; frozen (``requires_grad`` off)
            and always run in eval mode.
        head: a :class:`DropoutHead` or :class:`LaplaceHead` over ``D`` features.
        cache: shared feature cache (pass the same one to every step's model); a fresh one
            when None.
    """

    #: Scoring chunks of ~16,384 (input, sample) rows (819 inputs at K = 20): the head's work
    #: per input is tiny, so larger chunks mean fewer backbone calls and cache lookups.
    scoring_rows_per_chunk: int = 16384

    def __init__(self, backbone: nn.Module, head: nn.Module, cache: FeatureCache | None = None):
        super().__init__()
        self.backbone, self.head = backbone.requires_grad_(False), head
        self.cache = cache if cache is not None else FeatureCache()

    def deterministic(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone features ``[B, D]`` (from the cache where present)."""
        return self.cache.features(self.backbone, inputs)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """The backbone features ``[B, D]``."""
        return self.deterministic(inputs)

    def stochastic(self, hidden: torch.Tensor, k: int, *, generator=None) -> torch.Tensor:
        """Head log-probabilities ``[B·K, C]`` of features repeated K times."""
        return F.log_softmax(self.head(hidden, k, generator), dim=-1)

    def scoring_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        """``log_probs_B_K_C`` without repeating the features K times (eval mode, prepared).

        Dropout head: ``logits[b, k] = W (m_k ⊙ φ_b) + c = φ_b @ (m_k ⊙ W)ᵀ + c``, so one GEMM
        ``[B, D] @ [D, K·C]`` scores every input and mask. Laplace head: ``φ_b @ W_kᵀ + c_k``,
        also one GEMM. Equal to :meth:`forward` up to float rounding.
        """
        k = check_k(k)
        head = self.head
        if self.training or not all(layer.enabled for layer in self.dropout_layers()):
            return self(inputs, k)
        features_B_D = self.deterministic(inputs)
        if isinstance(head, DropoutHead):
            masks_K_D = head.dropout.consistent_masks(
                tuple(features_B_D.shape[1:]), dtype=features_B_D.dtype, device=features_B_D.device
            )
            weights_K_C_D = masks_K_D[:, None, :] * head.linear.weight[None]
            biases_K_C = head.linear.bias.expand(k, -1)
        elif isinstance(head, LaplaceHead) and bool(head.fitted):
            weights_K_C_D, biases_K_C = head._weights(k, features_B_D)
        else:
            return self(inputs, k)
        classes = weights_K_C_D.shape[1]
        # [K, C, D] -> [D, K·C]: one product for all inputs and samples.
        logits = features_B_D @ weights_K_C_D.reshape(k * classes, -1).T + biases_K_C.reshape(-1)
        return F.log_softmax(logits.view(-1, k, classes), dim=-1)

    def prepare_masks(self, k: int, *, generator: torch.Generator | None = None) -> None:
        """Dropout masks (dropout head) or weight samples (Laplace head), K of them."""
        k = check_k(k)
        super().prepare_masks(k, generator=generator)
        if isinstance(self.head, LaplaceHead):
            self.head.prepare_samples(k, generator=generator)

    def reset_masks(self) -> None:
        """Forget masks and weight samples."""
        super().reset_masks()
        if isinstance(self.head, LaplaceHead):
            self.head.reset_samples()

    def train(self, mode: bool = True) -> LastLayerModel:
        """Train mode for the head only; the backbone stays in eval mode."""
        super().train(mode)
        self.backbone.eval()
        return self
