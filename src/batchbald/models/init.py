"""Reproducible weight initialisation from an explicit generator."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["init_weights"]


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialise every convolution and linear layer of ``model`` in place, from ``generator``.

    Uses PyTorch's default scheme (weights and biases uniform in ``±1/sqrt(fan_in)``, which is
    ``kaiming_uniform_(a=sqrt(5))``), but draws from ``generator`` instead of torch's global RNG, so
    the same generator state gives the same weights whatever else has used the global RNG.
    Layers are visited in registration order.

    Args:
        model: any module; only ``nn.Conv*d`` and ``nn.Linear`` parameters are touched.
        generator: a CPU ``torch.Generator`` (parameters on other devices are filled on the
            CPU and copied, so the weights do not depend on the device).

    Returns:
        ``model``, for chaining.
    """
    for module in model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            continue
        fan_in = module.weight[0].numel()
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        for parameter in (module.weight, module.bias):
            if parameter is None:
                continue
            values = torch.empty(parameter.shape, dtype=parameter.dtype)
            values.uniform_(-bound, bound, generator=generator)
            parameter.copy_(values)
    return model
