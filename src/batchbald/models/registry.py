"""Model kinds by name, for experiment configs, campaigns and the CLI."""

from __future__ import annotations

import torch

from batchbald.errors import UnknownNameError
from batchbald.models.base import BayesianModule

__all__ = ["available_models", "build_model", "model_descriptions"]

_KINDS: dict[str, str] = {
    "mnist_cnn": "the BatchBALD paper's MNIST CNN (MC dropout)",
    "emnist_cnn": "the BatchBALD paper's EMNIST CNN (MC dropout)",
    "resnet18": "ResNet-18 (torchvision layout); posterior mc_dropout + head_dropout, "
    "last_layer_dropout or last_layer_laplace",
    "module": "any nn.Module from factory = 'package.module:function'; any posterior",
    "ensemble": "a deep ensemble: members = M networks of kind member",
    "embeddings_mlp": "an MLP with MC dropout over precomputed features [N, D]",
}


def available_models() -> list[str]:
    """Registered model kinds, sorted."""
    return sorted(_KINDS)


def model_descriptions() -> dict[str, str]:
    """One line per model kind (``batchbald list``)."""
    return {name: _KINDS[name] for name in available_models()}


def build_model(
    name: str,
    num_classes: int,
    *,
    p: float = 0.5,
    generator: torch.Generator | None = None,
    input_shape: tuple[int, ...] | None = None,
    **options: object,
) -> BayesianModule:
    """A freshly initialised model of kind ``name`` with default options.

    Args:
        name: one of :func:`available_models`.
        num_classes: C.
        p: dropout probability.
        generator: weight-initialisation source (see :func:`~batchbald.models.init.init_weights`);
            pass one per trial and step for reproducible runs. None uses torch's global RNG.
        input_shape: one input's shape; needed by every kind but the paper's CNNs
            (``(3, 32, 32)``, ``(D,)``).
        options: further :class:`~batchbald.models.ModelSpec` fields (``posterior``,
            ``head_dropout``, ``members``, ...).

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the valid names).
    """
    if name not in _KINDS:
        raise UnknownNameError(
            f"unknown model {name!r}; valid names: {', '.join(available_models())}"
        )
    if name in ("mnist_cnn", "emnist_cnn") and not options:
        from batchbald.models.cnn import EMNISTBayesianCNN, MNISTBayesianCNN

        cls = MNISTBayesianCNN if name == "mnist_cnn" else EMNISTBayesianCNN
        return cls(num_classes, p=p, generator=generator)
    from batchbald.models.builders import build_from_spec
    from batchbald.models.spec import ModelSpec

    shape = input_shape if input_shape is not None else (1, 28, 28)
    return build_from_spec(ModelSpec(name, p=p, **options), num_classes, shape, generator=generator)
