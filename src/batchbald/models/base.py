"""The Bayesian-network base class: ``forward(x, k) -> log_probs_B_K_C`` with consistent dropout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from batchbald.errors import InvalidInputError
from batchbald.models.dropout import _ConsistentDropout

__all__ = ["BayesianModule", "mc_dropout_disabled", "prepared_masks"]


def check_k(k: object, name: str = "k") -> int:
    """Validate a number of MC samples K ≥ 1 and return it as an int."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInputError(f"{name} (MC dropout samples) must be an int ≥ 1; got {k!r}")
    return k


def repeat_samples(hidden: torch.Tensor, k: int) -> torch.Tensor:
    """``[B, ...] -> [B·K, ...]``: each row repeated K times, sample index fastest."""
    batch = hidden.shape[0]
    return (
        hidden.unsqueeze(1)
        .expand(batch, k, *hidden.shape[1:])
        .reshape(batch * k, *hidden.shape[1:])
    )


class BayesianModule(nn.Module):
    """A network with MC dropout that returns K posterior samples of log-probabilities.

    Subclasses split the network in two: :meth:`deterministic`, the layers before the first
    dropout (computed once per input), and :meth:`stochastic`, the rest, run on activations
    repeated K times. K is an argument of every call, never stored on the class.

    Seeding: subclasses take ``generator`` in their constructor and pass it to
    :func:`~batchbald.models.init.init_weights`; training masks come from the ``generator``
    passed to :meth:`forward`; scoring masks from :meth:`prepare_masks`.
    """

    #: Default chunk of :func:`~batchbald.models.predict.predict_log_probs` (and of the
    #: experiment loop's scoring and evaluation), in (input, sample) rows:
    #: ``max(1, scoring_rows_per_chunk // k)`` inputs per chunk. Results do not depend on it.
    #: ~1,000 rows keeps the intermediates in cache and lets the allocator reuse freed memory:
    #: on the MNIST CNN 1,024 rows scored 1.6-2.4x faster than 16,384 at k = 10-100
    #: (docs/investigations/scoring_chunks.py); 4,000-row chunks made the
    #: CPU spend as long in page faults as in the convolutions.
    scoring_rows_per_chunk: int = 1024
    #: Optional cap on the inputs of ``predict_log_probs``'s default chunk (None: no cap), for
    #: models whose per-input intermediates do not shrink with k (see ``MNISTBayesianCNN``).
    scoring_inputs_per_chunk: int | None = None
    #: Whether ``predict_*`` may score chunks in parallel threads (one torch thread each): only
    #: for modules whose eval-mode forward keeps no per-call state. Results do not depend on it.
    #: On this project's 2-core machine the MNIST CNN scored 1.46x (k = 20) and 1.17x (k = 100)
    #: faster that way than with torch's two intra-op threads splitting each small chunk
    #: (benchmarks/scoring_parallel_chunks.py; docs/performance.md, campaigns).
    parallel_chunks: bool = False

    def deterministic(self, inputs: torch.Tensor) -> torch.Tensor:
        """Layers before the first dropout: ``[B, ...] -> [B, ...]``. Identity by default."""
        return inputs

    def stochastic(
        self, hidden: torch.Tensor, k: int, *, generator: torch.Generator | None
    ) -> torch.Tensor:
        """The layers from the first dropout on: ``[B·K, ...] -> log-probabilities [B·K, C]``."""
        raise NotImplementedError

    def forward(
        self, inputs: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Log-probabilities of K MC-dropout samples.

        Args:
            inputs: float ``[B, ...]`` (``[B, 1, 28, 28]`` for the MNIST CNNs).
            k: number of dropout samples K ≥ 1.
            generator: source of the per-example masks in training mode (eval mode uses the
                masks fixed by :meth:`prepare_masks`).

        Returns:
            ``log_probs_B_K_C``, the dtype and device of ``inputs``.
        """
        k = check_k(k)
        hidden = self.deterministic(inputs)
        hidden_BK = repeat_samples(hidden, k)
        return self.stochastic(hidden_BK, k, generator=generator).view(hidden.shape[0], k, -1)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[B, D]`` (the last linear layer's input, dropout off).

        Used by embedding-based acquirers (BADGE, core-sets). Callers choose the mode
        (``model.eval()``) and ``torch.no_grad()``; :func:`~batchbald.models.predict_embeddings`
        does both and streams a pool in chunks.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define embed()")

    def scoring_log_probs(self, inputs: torch.Tensor, k: int) -> torch.Tensor:
        """``log_probs_B_K_C`` in eval mode with the prepared consistent masks.

        Equal to ``self(inputs, k)`` up to float rounding; subclasses override it with an exact
        faster computation. Called by :func:`~batchbald.models.predict.predict_log_probs`.
        """
        return self(inputs, k)

    def dropout_layers(self) -> list[_ConsistentDropout]:
        """The consistent dropout layers, in registration order."""
        return [module for module in self.modules() if isinstance(module, _ConsistentDropout)]

    def prepare_masks(self, k: int, *, generator: torch.Generator | None = None) -> None:
        """Fix K consistent masks in every dropout layer (one seed per layer from ``generator``)."""
        k = check_k(k)
        for layer in self.dropout_layers():
            layer.prepare_masks(k, generator=generator)

    def reset_masks(self) -> None:
        """Forget the consistent masks of every dropout layer."""
        for layer in self.dropout_layers():
            layer.reset_masks()


@contextmanager
def prepared_masks(
    model: BayesianModule, k: int, *, generator: torch.Generator | None = None
) -> Iterator[BayesianModule]:
    """Eval mode with K consistent masks inside the block; restores mode and masks after.

    Example:
        >>> from batchbald.models import MNISTBayesianCNN
        >>> model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(0))
        >>> with prepared_masks(model, 3, generator=torch.Generator().manual_seed(1)):
        ...     model(torch.zeros(2, 1, 28, 28), 3).shape
        torch.Size([2, 3, 10])
    """
    was_training = model.training
    model.eval()
    model.prepare_masks(k, generator=generator)
    try:
        yield model
    finally:
        model.reset_masks()
        model.train(was_training)


@contextmanager
def mc_dropout_disabled(model: nn.Module) -> Iterator[nn.Module]:
    """Turn every consistent dropout layer into the identity inside the block (dropout off)."""
    layers = [module for module in model.modules() if isinstance(module, _ConsistentDropout)]
    previous = [layer.enabled for layer in layers]
    for layer in layers:
        layer.enabled = False
    try:
        yield model
    finally:
        for layer, enabled in zip(layers, previous, strict=True):
            layer.enabled = enabled
