"""MNIST CNN scoring: conv2's masked contributions by im2col GEMMs vs one grouped conv per offset.

``fast.masked_conv_maxpool`` computes ``maxpool(conv(m_k ⊙ h_b))`` for every input and mask
with one grouped convolution per pooling offset (stride = pool, each input channel to all
outputs) and combines the K masks per input with a running maximum. The alternative tried here
(:func:`im2col`) unfolds the windows once and runs two matrix products over the whole chunk:
every input channel's contribution for every input at once (``[C_in]`` batched
``[C_out, kh·kw] @ [kh·kw, B·H'·W']``), then all K masks in one
``[K, C_in] @ [C_in, C_out·B·H'·W']``, then max-pooling. In isolation (conv2 alone, one chunk)
it looked ~1.2x faster; this script measures what counts, the whole scoring.

Both are patched into the MNIST CNN's fast path and run through ``predict_log_probs`` with its
default chunk on the same model, inputs (MNIST training images when ``--data-dir`` is given,
else Gaussian noise) and masks, interleaved (each repeat runs both once, so both see the same
machine load). The script checks that the log-probabilities are bitwise identical and prints
the median wall times and their ratio; ``--out`` saves them as JSON.

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python docs/investigations/scoring_layouts.py \
        [--images 6000] [--k 20 100] [--repeats 5] [--threads N] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn

from batchbald.models import MNISTBayesianCNN, predict_log_probs
from batchbald.models import cnn as cnn_module
from batchbald.models.fast import _output_size, masked_conv_maxpool, max_pool_2x2


def _patches(hidden_B_C_H_W: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """The convolution's input windows as ``[C_in, kh·kw, B·H'·W']`` (one copy, im2col)."""
    pad_h, pad_w = conv.padding  # type: ignore[misc]
    padded = F.pad(hidden_B_C_H_W, (pad_w, pad_w, pad_h, pad_h))
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_size, conv.stride, conv.dilation
    windows = padded.unfold(2, (kh - 1) * dh + 1, sh).unfold(3, (kw - 1) * dw + 1, sw)
    windows = windows[..., ::dh, ::dw]  # [B, C_in, H', W', kh, kw] (a view)
    c_in = hidden_B_C_H_W.shape[1]
    return windows.permute(1, 4, 5, 0, 2, 3).reshape(c_in, kh * kw, -1)


def _max_pool(hidden: torch.Tensor, pool: int) -> torch.Tensor:
    """Max-pooling with kernel = stride = ``pool`` over the last two dimensions (exact)."""
    if pool == 2:
        return max_pool_2x2(hidden)
    rows, cols = hidden.shape[-2] // pool, hidden.shape[-1] // pool
    windows = hidden[..., : rows * pool, : cols * pool]
    windows = windows.reshape(*hidden.shape[:-2], rows, pool, cols, pool)
    return windows.amax(dim=(-3, -1))


def im2col(
    hidden_B_C_H_W: torch.Tensor, masks_K_C: torch.Tensor, conv: nn.Conv2d, pool: int
) -> torch.Tensor:
    """The alternative: ``[B, K, C_out, H'', W'']`` by two matrix products (see above)."""
    c_out, c_in, kh, kw = conv.weight.shape
    batch, k = hidden_B_C_H_W.shape[0], masks_K_C.shape[0]
    size = _output_size(hidden_B_C_H_W.shape[2:], conv)
    weight = conv.weight.transpose(0, 1).reshape(c_in, c_out, kh * kw)
    parts = torch.bmm(weight, _patches(hidden_B_C_H_W, conv))  # [C_in, C_out, B·H'·W']
    out = torch.mm(masks_K_C, parts.view(c_in, -1)).view(k, c_out, batch, *size)
    out = _max_pool(out, pool)  # [K, C_out, B, H'', W'']
    if conv.bias is not None:
        out += conv.bias.view(c_out, 1, 1, 1)
    return out.permute(2, 0, 1, 3, 4).contiguous()


def _inputs(data_dir: str | None, count: int, generator: torch.Generator) -> torch.Tensor:
    if not data_dir:
        return torch.randn(count, 1, 28, 28, generator=generator)
    from batchbald.data import read_idx

    images = read_idx(Path(data_dir) / "mnist" / "train-images-idx3-ubyte.gz")[:count]
    return ((torch.from_numpy(images).float() / 255 - 0.1307) / 0.3081).unsqueeze(1)


def _time(
    model: MNISTBayesianCNN, inputs: torch.Tensor, k: int, impl
) -> tuple[float, torch.Tensor]:
    with mock.patch.object(cnn_module, "masked_conv_maxpool", impl):
        start = time.perf_counter()
        out = predict_log_probs(model, inputs, k, generator=torch.Generator().manual_seed(1))
        return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    """Time both implementations for every ``--k``; print (and save) medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("BATCHBALD_DATA_DIR"))
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--k", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    model = MNISTBayesianCNN(generator=generator).eval()
    inputs = _inputs(args.data_dir, args.images, generator)
    impls = {"per_offset": masked_conv_maxpool, "im2col": im2col}
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.images} "
          f"images, load {os.getloadavg()[0]:.1f}, median of {args.repeats} repeats")  # fmt: skip
    for k in args.k:
        times: dict[str, list[float]] = {name: [] for name in impls}
        outs: dict[str, torch.Tensor] = {}
        for _ in range(args.repeats):
            for name, impl in impls.items():
                seconds, outs[name] = _time(model, inputs, k, impl)
                times[name].append(seconds)
        medians = {name: statistics.median(values) for name, values in times.items()}
        row = {"k": k, "identical": torch.equal(outs["per_offset"], outs["im2col"]),
               "max_abs_diff": (outs["per_offset"] - outs["im2col"]).abs().max().item(),
               "median_s": medians, "times_s": times,
               "speedup": medians["per_offset"] / medians["im2col"]}  # fmt: skip
        rows.append(row)
        print(f"k = {k}: per-offset {medians['per_offset']:.2f} s, "
              f"im2col {medians['im2col']:.2f} s, speed-up {row['speedup']:.2f}x, "
              f"bitwise identical: {row['identical']}")  # fmt: skip
    if args.out:
        payload = {"command": "docs/investigations/scoring_layouts.py", "rows": rows,
                   "images": args.images, "threads": torch.get_num_threads(),
                   "torch": torch.__version__}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
