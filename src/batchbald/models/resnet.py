"""ResNet-18 (He et al., CVPR 2016), written out here.

torchvision does not install beside the pinned torch 2.13.0 on CPU (its PyPI wheels are
linked against CUDA torch), so the package defines the architecture itself.

The layer structure, hyperparameters and parameter names follow torchvision's ``resnet18``
(``conv1``, ``bn1``, ``layer1.0.conv1``, ..., ``layer2.0.downsample.0``, ``fc``), so a state dict
saved from torchvision's model loads into this one unchanged. It has no dropout: use
:func:`~batchbald.models.consistent_mc_dropout` with ``head_dropout`` or a last-layer posterior.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["BasicBlock", "ResNet18", "init_resnet"]


def _conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and an identity (or 1×1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W] -> [B, c_out, H / stride, W / stride]``."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18: returns logits ``[B, num_classes]``.

    7×7/2 stem, 3×3/2 max-pool, four stages of two basic blocks, global average pool, one
    linear layer.

    Args:
        num_classes: C.
        in_channels: input channels (3 for RGB; 1 for MNIST-like images).
        generator: when given, weights are initialised from it (:func:`init_resnet`).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        in_channels: int = 3,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        widths = (64, 128, 256, 512)
        c_in = 64
        for index, width in enumerate(widths, start=1):
            stride = 1 if index == 1 else 2
            setattr(
                self,
                f"layer{index}",
                nn.Sequential(BasicBlock(c_in, width, stride), BasicBlock(width, width)),
            )
            c_in = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        if generator is not None:
            init_resnet(self, generator)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before ``fc``: ``[B, in_channels, H, W] -> [B, 512]``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]``."""
        return self.fc(self.features(x))


@torch.no_grad()
def init_resnet(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """The torchvision ResNet initialisation, drawn from ``generator`` in registration order.

    Convolutions: Kaiming normal (fan-out, ReLU gain); batch norms: weight 1, bias 0; linear
    layers: uniform in ``±1/sqrt(fan_in)`` (PyTorch's default).
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.weight.shape[0] * module.weight[0, 0].numel()
            std = math.sqrt(2.0 / fan_out)
            values = torch.empty(module.weight.shape).normal_(0.0, std, generator=generator)
            module.weight.copy_(values)
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.fill_(1.0)
            module.bias.zero_()
        elif isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.weight.shape[1])
            for parameter in (module.weight, module.bias):
                values = torch.empty(parameter.shape).uniform_(-bound, bound, generator=generator)
                parameter.copy_(values)
    return model
