"""Real-world dataset flaws as seeded transforms ``ImageData -> ImageData``.

Class imbalance and heteroscedastic input noise live here; duplication is
:func:`batchbald.data.repeated`, label noise :mod:`batchbald.data.label_noise`, and
out-of-distribution contamination :mod:`batchbald.data.ood`. Every transform takes an explicit
``generator``, keeps the per-index metadata of :class:`ImageData` consistent, and composes
with the others in any order (see ``docs/data.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import torch

from batchbald.data._checks import check_generator, check_int, check_real, randn_like
from batchbald.data.dataset import ImageData
from batchbald.errors import InvalidInputError

__all__ = ["class_imbalance", "heteroscedastic_noise", "long_tail_fractions"]


def class_imbalance(
    data: ImageData,
    keep_fractions: Sequence[float] | Mapping[int, float],
    *,
    generator: torch.Generator | None,
) -> ImageData:
    """Keep ``round(f_c · n_c)`` random rows of each class c (f_c = ``keep_fractions[c]``).

    Exact counts (not Bernoulli draws) make the class sizes deterministic; which rows survive
    is random. Rows keep their relative order; ``source_index`` still points at the original
    rows. Rows with a negative label (OOD) are kept.

    Args:
        data: the data to thin out.
        keep_fractions: one fraction in [0, 1] per class (a sequence of length C), or a
            mapping class -> fraction where absent classes keep everything.
        generator: chooses the surviving rows.

    >>> data = ImageData(torch.zeros(6, 1, 1, 1), torch.tensor([0, 0, 0, 0, 1, 1]), 2)
    >>> thinned = class_imbalance(data, [0.5, 1.0], generator=torch.Generator().manual_seed(0))
    >>> thinned.labels.tolist()
    [0, 0, 1, 1]
    """
    generator = check_generator(generator)
    fractions = _fractions(keep_fractions, data.num_classes)
    keep = data.labels < 0
    for label, fraction in enumerate(fractions):
        rows = torch.nonzero(data.labels == label).flatten()
        count = round(fraction * rows.numel())
        chosen = rows[torch.randperm(rows.numel(), generator=generator)[:count]]
        keep[chosen] = True
    return data.subset(torch.nonzero(keep).flatten())


def _fractions(
    keep_fractions: Sequence[float] | Mapping[int, float], num_classes: int
) -> list[float]:
    if isinstance(keep_fractions, Mapping):
        # TOML tables have string keys: {"3": 0.1} means class 3.
        keep_fractions = {_class_key(key): value for key, value in keep_fractions.items()}
        bad = [key for key in keep_fractions if not 0 <= key < num_classes]
        if bad:
            raise InvalidInputError(
                f"keep_fractions keys must be classes in [0, {num_classes}); got {bad}"
            )
        fractions = [float(keep_fractions.get(c, 1.0)) for c in range(num_classes)]
    else:
        fractions = list(keep_fractions)
        if len(fractions) != num_classes:
            raise InvalidInputError(
                f"keep_fractions must have one entry per class (C = {num_classes}); "
                f"got {len(fractions)}"
            )
    return [check_real(f, f"keep_fractions[{c}]", high=1.0) for c, f in enumerate(fractions)]


def _class_key(key: object) -> int:
    try:
        return int(key)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInputError(f"keep_fractions keys must be class indices; got {key!r}") from None


def long_tail_fractions(num_classes: int, imbalance_ratio: float) -> list[float]:
    """Keep fractions decaying geometrically from 1 (class 0) to 1/ratio (class C-1).

    >>> [round(f, 3) for f in long_tail_fractions(3, 100.0)]
    [1.0, 0.1, 0.01]
    """
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    ratio = check_real(imbalance_ratio, "imbalance_ratio", low=1.0)
    return [ratio ** (-c / (num_classes - 1)) for c in range(num_classes)]


def heteroscedastic_noise(
    data: ImageData,
    noise_stds: tuple[float, float] | torch.Tensor,
    *,
    generator: torch.Generator | None,
) -> ImageData:
    """Add Gaussian noise whose scale differs per index, fixed once (like Repeated-MNIST's).

    Args:
        data: N rows of normalised inputs.
        noise_stds: either explicit per-index σ_i (float ``[N]``, ≥ 0) or a range
            ``(low, high)`` from which σ_i ~ Uniform(low, high) is drawn.
        generator: draws the σ_i (when a range is given), then the noise.

    Returns:
        The data with ``inputs[i] + σ_i · ε_i``, ε_i ~ N(0, I); ``noise_std`` updated in
        quadrature. Labels and oracle answers are unchanged.

    >>> data = ImageData(torch.zeros(3, 1, 1, 1), torch.tensor([0, 1, 0]), 2)
    >>> noisy = heteroscedastic_noise(data, torch.tensor([0.0, 1.0, 2.0]), generator=None)
    >>> noisy.noise_std.tolist(), noisy.inputs[0].item()
    ([0.0, 1.0, 2.0], 0.0)
    """
    generator = check_generator(generator)
    stds_N = _noise_stds(noise_stds, len(data), generator)
    # [N] -> [N, 1, ..., 1] so each row's σ broadcasts over its pixels.
    scale = stds_N.to(data.inputs).view(-1, *([1] * (data.inputs.dim() - 1)))
    inputs = data.inputs + randn_like(data.inputs, generator) * scale
    noise_std = (data.noise_std.square() + stds_N.square()).sqrt()
    return replace(data, inputs=inputs, noise_std=noise_std)


def _noise_stds(
    noise_stds: tuple[float, float] | torch.Tensor, size: int, generator: torch.Generator | None
) -> torch.Tensor:
    if isinstance(noise_stds, torch.Tensor):
        stds = noise_stds.detach().float().cpu()
        if stds.shape != (size,) or not bool(torch.isfinite(stds).all() and (stds >= 0).all()):
            raise InvalidInputError(
                f"noise_stds must be finite and ≥ 0 with shape [N] = [{size}]; got shape "
                f"{tuple(stds.shape)}, min {float(stds.min()) if stds.numel() else 'n/a'}"
            )
        return stds
    if not isinstance(noise_stds, Sequence) or len(noise_stds) != 2:
        raise InvalidInputError(
            f"noise_stds must be a tensor [N] or a (low, high) range; got {noise_stds!r}"
        )
    low = check_real(noise_stds[0], "noise_stds low")
    high = check_real(noise_stds[1], "noise_stds high", low=low)
    return torch.rand(size, generator=generator).mul_(high - low).add_(low)
