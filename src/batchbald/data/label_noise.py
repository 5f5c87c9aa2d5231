"""A noisy oracle: fixed, seeded wrong answers (symmetric or class-conditional flips).

The noisy answers are drawn once per dataset index, so asking twice about one index gives the
same answer whatever the order of queries; the loop's oracle answers from this vector.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from batchbald.data._checks import check_generator, check_int, check_real
from batchbald.data.dataset import ImageData
from batchbald.errors import InvalidInputError

__all__ = ["noisy_labels", "noisy_oracle", "symmetric_transition_matrix"]


def symmetric_transition_matrix(num_classes: int, rate: float) -> torch.Tensor:
    """``T[c, c'] = P(answer c' | true c)``: right with 1 - rate, else uniform over the others.

    >>> symmetric_transition_matrix(3, 0.5).tolist()
    [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]
    """
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    rate = check_real(rate, "rate", high=1.0)
    matrix = torch.full((num_classes, num_classes), rate / (num_classes - 1), dtype=torch.float64)
    return matrix.fill_diagonal_(1.0 - rate)


def noisy_labels(
    labels: torch.Tensor,
    *,
    num_classes: int,
    rate: float | None = None,
    transition_matrix: Any = None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """The oracle's answers: each label replaced by a draw from its row of a transition matrix.

    Give exactly one of ``rate`` (symmetric noise: a label is wrong with probability ``rate``
    and then uniform over the other C - 1 classes) or ``transition_matrix`` (class-conditional
    noise, ``T[c, c'] = P(answer c' | true c)``, rows summing to 1).

    Args:
        labels: int64 ``[N]`` in ``[0, C)``; negative entries (NO_CLASS) pass through.
        num_classes: C ≥ 2.
        rate: symmetric flip probability in [0, 1].
        transition_matrix: ``[C, C]`` row-stochastic matrix (tensor, array or nested lists).
        generator: draws one uniform number per index (inverse-CDF sampling).

    Returns:
        int64 ``[N]``, fixed per index for a given generator state.

    >>> noisy_labels(torch.tensor([0, 1, 2]), num_classes=3, rate=0.0, generator=None).tolist()
    [0, 1, 2]
    """
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    generator = check_generator(generator)
    matrix = _transition_matrix(num_classes, rate, transition_matrix)
    labels = _checked_labels(labels, num_classes)
    valid = labels >= 0
    # Inverse CDF: answer = the first class whose cumulative probability exceeds u.
    uniforms_N = torch.rand(labels.shape, generator=generator, dtype=torch.float64)
    cdf_N_C = matrix.cumsum(dim=1)[labels.clamp(min=0)]
    answers = torch.searchsorted(cdf_N_C, uniforms_N.unsqueeze(1), right=True).squeeze(1)
    answers = answers.clamp(max=num_classes - 1)  # u ≈ 1 with a cdf ending at 1 - 1e-16
    return torch.where(valid, answers, labels)


def _checked_labels(labels: Any, num_classes: int) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise InvalidInputError(
            f"labels must be a 1-D integer tensor; got dtype {labels.dtype}, shape "
            f"{tuple(labels.shape)}"
        )
    labels = labels.long().cpu()
    if labels.numel() and int(labels.max()) >= num_classes:
        raise InvalidInputError(
            f"labels must lie in [0, {num_classes}) (or be negative for CANNOT_LABEL); got "
            f"the label {int(labels.max())}"
        )
    return labels


def _transition_matrix(
    num_classes: int, rate: float | None, transition_matrix: Any
) -> torch.Tensor:
    if (rate is None) == (transition_matrix is None):
        raise InvalidInputError(
            "give exactly one of rate (symmetric noise) or transition_matrix "
            f"(class-conditional noise); got rate={rate!r} and "
            f"transition_matrix={'None' if transition_matrix is None else 'a matrix'}"
        )
    if rate is not None:
        return symmetric_transition_matrix(num_classes, rate)
    matrix = torch.as_tensor(transition_matrix, dtype=torch.float64).cpu()
    if matrix.shape != (num_classes, num_classes):
        raise InvalidInputError(
            f"transition_matrix must be [C, C] = [{num_classes}, {num_classes}]; got shape "
            f"{tuple(matrix.shape)}"
        )
    row_error = float((matrix.sum(dim=1) - 1).abs().max())
    if not bool(torch.isfinite(matrix).all()) or bool((matrix < 0).any()) or row_error > 1e-6:
        raise InvalidInputError(
            "transition_matrix must hold probabilities ≥ 0 whose rows sum to 1 "
            f"(T[c, c'] = P(answer c' | true c)); the largest row-sum error is {row_error:.3g}"
        )
    return matrix


def noisy_oracle(
    data: ImageData,
    *,
    rate: float | None = None,
    transition_matrix: Any = None,
    generator: torch.Generator | None,
) -> ImageData:
    """``data`` whose ``oracle_labels`` are :func:`noisy_labels` of its current answers.

    ``labels`` (the truth) are unchanged; points that cannot be labelled stay so. Applying it
    twice compounds the noise.

    >>> data = ImageData(torch.zeros(4, 1, 1, 1), torch.tensor([0, 1, 0, 1]), 2)
    >>> noisy_oracle(data, rate=1.0, generator=None).oracle_labels.tolist()
    [1, 0, 1, 0]
    """
    answers = noisy_labels(
        data.oracle_labels,
        num_classes=data.num_classes,
        rate=rate,
        transition_matrix=transition_matrix,
        generator=generator,
    )
    return replace(data, oracle_labels=answers)
