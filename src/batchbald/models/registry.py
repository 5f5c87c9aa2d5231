"""Models by name, for experiment configs and the CLI."""

from __future__ import annotations

from collections.abc import Callable

import torch

from batchbald.errors import UnknownNameError
from batchbald.models.base import BayesianModule
from batchbald.models.cnn import EMNISTBayesianCNN, MNISTBayesianCNN

__all__ = ["available_models", "build_model"]

_MODELS: dict[str, Callable[..., BayesianModule]] = {
    "mnist_cnn": MNISTBayesianCNN,
    "emnist_cnn": EMNISTBayesianCNN,
}


def available_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_MODELS)


def build_model(
    name: str,
    num_classes: int,
    *,
    p: float = 0.5,
    generator: torch.Generator | None = None,
) -> BayesianModule:
    """A freshly initialised model.

    Args:
        name: one of :func:`available_models` ("mnist_cnn", "emnist_cnn").
        num_classes: C.
        p: dropout probability.
        generator: weight-initialisation source (see :func:`~batchbald.models.init.init_weights`);
            pass one per trial and step for reproducible runs. None uses torch's global RNG.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the valid names).
    """
    if name not in _MODELS:
        raise UnknownNameError(
            f"unknown model {name!r}; valid names: {', '.join(available_models())}"
        )
    return _MODELS[name](num_classes, p=p, generator=generator)
