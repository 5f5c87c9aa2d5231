"""Exact shortcuts for scoring with consistent channel dropout (used by the paper's CNNs).

Two identities make scoring K masks over a pool much cheaper than running the network K times:

1. A channel mask ``m ≥ 0`` (values ``0`` or ``1/(1-p)``) commutes with max-pooling and ReLU:
   ``relu(maxpool(m ⊙ h)) = m ⊙ relu(maxpool(h))``. Multiplying by a power of two (p = 0.5) is
   exact in floating point, so this reordering is bit-exact; for other ``p`` it is exact up to
   rounding.
2. A convolution is linear in its input channels:
   ``conv(m ⊙ h) = Σ_c m_c · conv_c(h_c) + bias``. The per-input-channel contributions
   ``conv_c(h_c)`` are computed once per input (one grouped convolution) and combined for all K
   masks with one matrix product ``[K, C_in] @ [C_in, ...]``.

Tensors in this module use the ``[K, B, ...]`` layout (mask index slowest) so that the
recombination is a single large GEMM.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["channel_contributions", "masked_conv", "masked_conv_maxpool"]


def channel_contributions(hidden_B_C_H_W: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Per-input-channel outputs of ``conv`` without bias: ``[B, C_in, C_out, H', W']``.

    ``conv(h) = Σ_c result[:, c] + bias``. Computed as one grouped convolution in which group
    ``c`` maps input channel ``c`` to all ``C_out`` outputs (same FLOPs as ``conv`` itself).
    """
    if conv.groups != 1 or conv.padding_mode != "zeros":
        raise NotImplementedError("channel_contributions supports groups=1, zero padding only")
    c_out, c_in, *kernel = conv.weight.shape
    # [C_out, C_in, kh, kw] -> [C_in·C_out, 1, kh, kw]: group c = the C_out filters of channel c.
    weight = conv.weight.transpose(0, 1).reshape(c_in * c_out, 1, *kernel)
    out = F.conv2d(
        hidden_B_C_H_W,
        weight,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=c_in,
    )
    return out.view(out.shape[0], c_in, c_out, *out.shape[2:])


def masked_conv(
    hidden_B_C_H_W: torch.Tensor, masks_K_C: torch.Tensor, conv: nn.Conv2d
) -> torch.Tensor:
    """``conv(m_k ⊙ h_b)`` for every mask and input: ``[K, B, C_out, H', W']``.

    Args:
        hidden_B_C_H_W: activations before the channel dropout, ``[B, C_in, H, W]``.
        masks_K_C: channel masks ``[K, C_in]`` (the dropout scale included).
        conv: the convolution that follows the dropout.
    """
    parts = channel_contributions(hidden_B_C_H_W, conv)
    batch, c_in, c_out, height, width = parts.shape
    # [B, C_in, C_out, H', W'] -> [C_in, B·C_out·H'·W'] for one GEMM with the masks.
    parts_C_R = parts.transpose(0, 1).reshape(c_in, -1)
    out = (masks_K_C @ parts_C_R).view(-1, batch, c_out, height, width)
    if conv.bias is not None:
        out += conv.bias.view(c_out, 1, 1)
    return out


def masked_conv_maxpool(
    hidden_B_C_H_W: torch.Tensor, masks_K_C: torch.Tensor, conv: nn.Conv2d, pool: int
) -> torch.Tensor:
    """``maxpool(conv(m_k ⊙ h_b), pool)`` (kernel = stride = ``pool``): ``[K, B, C_out, H'', W'']``.

    The K masked sums are formed one pooling-window offset at a time and reduced with a running
    maximum, so the full-resolution ``[K, B, C_out, H', W']`` tensor is never held at once. The
    bias is added after pooling (a constant per channel commutes with the maximum).
    """
    parts = channel_contributions(hidden_B_C_H_W, conv)
    batch, c_in, c_out, height, width = parts.shape
    pooled_h, pooled_w = height // pool, width // pool
    parts = parts[..., : pooled_h * pool, : pooled_w * pool]
    # [B, C_in, C_out, H''·s, W''·s] -> [s·s window offsets, C_in, B·C_out·H''·W''].
    parts = parts.reshape(batch, c_in, c_out, pooled_h, pool, pooled_w, pool)
    parts = parts.permute(4, 6, 1, 0, 2, 3, 5).reshape(pool * pool, c_in, -1)
    out = masks_K_C @ parts[0]
    scratch = torch.empty_like(out)
    for offset in range(1, pool * pool):
        torch.mm(masks_K_C, parts[offset], out=scratch)
        torch.maximum(out, scratch, out=out)
    out = out.view(-1, batch, c_out, pooled_h, pooled_w)
    if conv.bias is not None:
        out += conv.bias.view(c_out, 1, 1)
    return out
