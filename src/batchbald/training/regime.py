"""The configurable parts of a training regime: optimiser, frozen parameters, class weights."""

from __future__ import annotations

import torch
from torch import nn

from batchbald.errors import InvalidInputError
from batchbald.training.config import TrainingConfig

__all__ = ["class_weight_tensor", "make_optimizer", "trainable_parameters"]


def trainable_parameters(model: nn.Module, freeze: tuple[str, ...]) -> list[nn.Parameter]:
    """Parameters not matched by a ``freeze`` prefix (those get ``requires_grad = False``).

    Raises:
        InvalidInputError: a prefix matches no parameter (the message lists a few names).
    """
    named = dict(model.named_parameters())
    for prefix in freeze:
        matched = [n for n in named if n == prefix or n.startswith(prefix + ".")]
        if not matched:
            some = ", ".join(list(named)[:5])
            raise InvalidInputError(
                f"freeze prefix {prefix!r} matches no parameter of {type(model).__name__}; "
                f"its parameters start: {some}, ..."
            )
        for name in matched:
            named[name].requires_grad_(False)
    return [p for p in named.values() if p.requires_grad]


def make_optimizer(model: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    """Adam or SGD over the trainable parameters, with ``lr`` and (coupled) ``weight_decay``."""
    parameters = trainable_parameters(model, config.freeze)
    if not parameters:
        raise InvalidInputError(f"{type(model).__name__} has no trainable parameter left")
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def class_weight_tensor(
    config: TrainingConfig, labels_N: torch.Tensor, num_classes: int
) -> torch.Tensor | None:
    """The NLL's class weights ``float32 [C]``, or None when unweighted."""
    if config.class_weights == "balanced":
        counts = torch.bincount(labels_N.cpu(), minlength=num_classes).double()
        weights = labels_N.numel() / (num_classes * counts)
        return torch.where(counts > 0, weights, torch.ones_like(weights)).float()
    if not config.class_weights:
        return None
    if len(config.class_weights) != num_classes:
        raise InvalidInputError(
            f"class_weights must have one entry per class (C = {num_classes}); "
            f"got {len(config.class_weights)}"
        )
    return torch.tensor(config.class_weights, dtype=torch.float32)
