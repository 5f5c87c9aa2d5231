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

Results use the ``[B, K, ...]`` layout (sample index fastest), like ``BayesianModule.forward``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["channel_contributions", "masked_conv", "masked_conv_maxpool", "max_pool_2x2"]


def max_pool_2x2(hidden: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(hidden, 2)`` for ``[..., H, W]``: the maximum of the four window corners.

    The same values (a maximum is exact; odd trailing rows and columns are dropped, as by
    ``max_pool2d``), without the pooling kernel's index bookkeeping: on CPU and contiguous
    ``[B, C, H, W]`` inputs ~6× faster (``docs/investigations/scoring_pooling.py``). Eval only:
    the gradient would differ from ``max_pool2d``'s on ties.
    """
    rows, cols = hidden.shape[-2] // 2 * 2, hidden.shape[-1] // 2 * 2
    top, bottom = hidden[..., 0:rows:2, :cols], hidden[..., 1:rows:2, :cols]
    out = torch.maximum(top[..., 0::2], top[..., 1::2])
    return torch.maximum(out, torch.maximum(bottom[..., 0::2], bottom[..., 1::2]), out=out)


def _grouped_weight(conv: nn.Conv2d) -> torch.Tensor:
    """``[C_out, C_in, kh, kw] -> [C_in·C_out, 1, kh, kw]``: group c = the C_out filters of c."""
    if conv.groups != 1 or conv.padding_mode != "zeros":
        raise NotImplementedError("channel contributions need groups=1 and zero padding")
    c_out, c_in, *kernel = conv.weight.shape
    return conv.weight.transpose(0, 1).reshape(c_in * c_out, 1, *kernel)


def channel_contributions(hidden_B_C_H_W: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Per-input-channel outputs of ``conv`` without bias: ``[B, C_in, C_out·H'·W']``.

    ``conv(h) = Σ_c result[:, c] + bias`` (flattened). Computed as one grouped convolution in
    which group ``c`` maps input channel ``c`` to all ``C_out`` outputs (the FLOPs of ``conv``).
    """
    c_in = conv.weight.shape[1]
    out = F.conv2d(
        hidden_B_C_H_W,
        _grouped_weight(conv),
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=c_in,
    )
    return out.view(out.shape[0], c_in, -1)


def masked_conv(
    hidden_B_C_H_W: torch.Tensor, masks_K_C: torch.Tensor, conv: nn.Conv2d
) -> torch.Tensor:
    """``conv(m_k ⊙ h_b)`` for every input and mask: ``[B, K, C_out, H', W']``.

    Args:
        hidden_B_C_H_W: activations before the channel dropout, ``[B, C_in, H, W]``.
        masks_K_C: channel masks ``[K, C_in]`` (the dropout scale included).
        conv: the convolution that follows the dropout.
    """
    parts_B_C_R = channel_contributions(hidden_B_C_H_W, conv)
    out_B_K_R = torch.matmul(masks_K_C, parts_B_C_R)  # one [K, C_in] @ [C_in, R] per input
    c_out = conv.weight.shape[0]
    out = out_B_K_R.view(*out_B_K_R.shape[:2], c_out, -1)
    if conv.bias is not None:
        out += conv.bias.view(c_out, 1)
    size = _output_size(hidden_B_C_H_W.shape[2:], conv)
    return out.view(*out.shape[:3], *size)


def _output_size(size: torch.Size, conv: nn.Conv2d) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        (n + 2 * pad - dil * (ker - 1) - 1) // st + 1
        for n, pad, dil, ker, st in zip(
            size, conv.padding, conv.dilation, conv.kernel_size, conv.stride, strict=True
        )
    )


def masked_conv_maxpool(
    hidden_B_C_H_W: torch.Tensor, masks_K_C: torch.Tensor, conv: nn.Conv2d, pool: int
) -> torch.Tensor:
    """``maxpool(conv(m_k ⊙ h_b), pool)`` (kernel = stride = ``pool``): ``[B, K, C_out, H'', W'']``.

    Each pooling-window offset ``(dy, dx)`` is a convolution with stride ``pool·stride``
    starting at that offset; its K masked sums are reduced with a running maximum, so the
    full-resolution ``[B, K, C_out, H', W']`` tensor is never held. The bias is added after
    pooling (a constant per channel commutes with the maximum).
    """
    c_out, c_in = conv.weight.shape[:2]
    pooled = [n // pool for n in _output_size(hidden_B_C_H_W.shape[2:], conv)]
    padded = F.pad(hidden_B_C_H_W, (conv.padding[1],) * 2 + (conv.padding[0],) * 2)
    weight = _grouped_weight(conv)
    out = scratch = None
    for dy in range(pool):
        for dx in range(pool):
            # Conv outputs at rows pool·i + dy, columns pool·j + dx: shift, then stride by pool.
            shifted = padded[:, :, dy * conv.stride[0] :, dx * conv.stride[1] :]
            parts = F.conv2d(
                shifted,
                weight,
                stride=(pool * conv.stride[0], pool * conv.stride[1]),
                dilation=conv.dilation,
                groups=c_in,
            )[..., : pooled[0], : pooled[1]]
            # [B, C_in·C_out, H'', W''] -> [B, C_in, C_out·H''·W''] for one GEMM per input.
            parts_B_C_R = parts.reshape(parts.shape[0], c_in, -1)
            if out is None:
                out = torch.matmul(masks_K_C, parts_B_C_R)
                scratch = torch.empty_like(out)
            else:
                torch.matmul(masks_K_C, parts_B_C_R, out=scratch)
                torch.maximum(out, scratch, out=out)
    assert out is not None
    out = out.view(*out.shape[:2], c_out, -1)
    if conv.bias is not None:
        out += conv.bias.view(c_out, 1)
    return out.view(*out.shape[:3], *pooled)
