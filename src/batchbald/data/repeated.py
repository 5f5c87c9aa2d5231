"""Repeated-MNIST: the dataset duplicated with fixed per-index Gaussian noise (BatchBALD §5).

Duplicates are the first of the real-world flaws: BALD's top-b picks the same informative
point several times over, BatchBALD does not.
"""

from __future__ import annotations

import torch

from batchbald.data._checks import check_generator, check_int, check_real, randn_like
from batchbald.data.dataset import ImageData

__all__ = ["repeated", "repeated_source_index"]


def repeated(
    data: ImageData, copies: int, noise_std: float = 0.1, *, generator: torch.Generator | None
) -> ImageData:
    """``copies`` copies of ``data`` concatenated, each row with its own fixed Gaussian noise.

    Copy j of item i is row ``j * N + i``, so indices into the first copy equal indices into
    ``data`` (the paper's fixed initial set applies unchanged). Every copy gets noise
    N(0, noise_std²) added to the *normalised* inputs, drawn once here (fixed across epochs,
    different for each copy). Labels, oracle answers and OOD flags are repeated; a noisy
    oracle applied *before* this transform gives all copies the same answer, one applied
    after gives each copy its own.

    Args:
        data: N rows.
        copies: ≥ 1 (the papers use 1, 2, 3, 4 and 5).
        noise_std: σ after normalisation, ≥ 0 (0.1 in the papers).
        generator: draws the noise (copy 0 first); None uses torch's global generator.

    Returns:
        ``copies * N`` rows; ``source_index`` maps each row to the row of the original data,
        ``noise_std`` grows in quadrature.

    >>> base = ImageData(torch.zeros(2, 1, 2, 2), torch.tensor([0, 1]), 2)
    >>> rep = repeated(base, 3, generator=torch.Generator().manual_seed(0))
    >>> rep.labels.tolist(), rep.source_index.tolist()
    ([0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1])
    """
    copies = check_int(copies, "copies", minimum=1)
    noise_std = check_real(noise_std, "noise_std")
    generator = check_generator(generator)
    size = len(data)
    # [N, *shape] -> [copies * N, *shape]; copy j occupies rows j*N .. (j+1)*N - 1.
    inputs = data.inputs.repeat(copies, *([1] * (data.inputs.dim() - 1)))
    if noise_std > 0:
        for copy in range(copies):
            block = inputs[copy * size : (copy + 1) * size]
            block.add_(randn_like(block, generator).mul_(noise_std))
    return _with_inputs(data, inputs, copies, noise_std)


def _with_inputs(data: ImageData, inputs: torch.Tensor, copies: int, noise_std: float) -> ImageData:
    """``data``'s labels and metadata repeated ``copies`` times, around the noisy ``inputs``."""
    return ImageData(
        inputs,
        data.labels.repeat(copies),
        data.num_classes,
        data.class_names,
        source_index=data.source_index.repeat(copies),
        is_ood=data.is_ood.repeat(copies),
        oracle_labels=data.oracle_labels.repeat(copies),
        noise_std=data.noise_std.repeat(copies).square().add(noise_std**2).sqrt(),
    )


def repeated_source_index(num_items: int, copies: int) -> torch.Tensor:
    """Row of the original data for each row of a ``copies``-fold repetition: ``i mod N``.

    >>> repeated_source_index(3, 2).tolist()
    [0, 1, 2, 0, 1, 2]
    """
    num_items = check_int(num_items, "num_items")
    copies = check_int(copies, "copies", minimum=1)
    return torch.arange(num_items).repeat(copies)
