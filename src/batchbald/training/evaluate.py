"""Accuracy and NLL of the MC-averaged predictive distribution."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule, predict_deterministic, predict_log_probs

__all__ = ["Evaluation", "evaluate", "marginal_log_probs"]


@dataclass(frozen=True)
class Evaluation:
    """Metrics on one labelled set.

    Attributes:
        accuracy: fraction of argmax predictions equal to the label, in [0, 1].
        nll: mean negative log-likelihood of the labels under the averaged predictive (nats).
    """

    accuracy: float
    nll: float


def marginal_log_probs(
    model: BayesianModule,
    inputs: torch.Tensor,
    k: int,
    *,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``log p(y | x)`` of the MC-averaged predictive of ``model``, ``float64 [N, C]``.

    Averages probabilities over K consistent dropout samples (log-mean-exp of the log-probs),
    i.e. marginalises the posterior samples out; ``k = 0`` means dropout off (the deterministic
    network). :func:`batchbald.acquisition.predictive_log_probs` does the same from
    log-probabilities ``[N, K, C]`` already computed.

    Args:
        model: a trained :class:`BayesianModule` (its train/eval mode is restored after).
        inputs: ``[N, ...]`` inputs.
        k: MC dropout samples K ≥ 1, or 0 for dropout off.
        batch_size: inputs per chunk (memory only).
        generator: source of the K consistent masks.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise InvalidInputError(f"k must be an int ≥ 0 (0 = dropout off); got {k!r}")
    if k == 0:
        log_probs_N_K_C = predict_deterministic(model, inputs, batch_size=batch_size)
    else:
        log_probs_N_K_C = predict_log_probs(
            model, inputs, k, batch_size=batch_size, generator=generator
        )
    num_posterior_samples = log_probs_N_K_C.shape[1]
    return torch.logsumexp(log_probs_N_K_C.double(), dim=1) - math.log(num_posterior_samples)


def evaluate(
    model: BayesianModule,
    data: ImageData,
    k: int,
    *,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> Evaluation:
    """Accuracy and NLL with ``k`` MC dropout samples (probabilities averaged, then argmax).

    Args:
        model: a trained :class:`BayesianModule` (its train/eval mode is restored after).
        data: labelled inputs; must not be empty.
        k: MC dropout samples; 0 means dropout off.
        batch_size: inputs per chunk (see :func:`~batchbald.models.predict_log_probs`).
        generator: source of the K consistent masks.

    Returns:
        :class:`Evaluation` with plain Python floats.
    """
    if len(data) == 0:
        raise InvalidInputError("data must hold at least one labelled point; got an empty set")
    log_probs_N_C = marginal_log_probs(
        model, data.inputs, k, batch_size=batch_size, generator=generator
    )
    labels_N = data.labels.to(log_probs_N_C.device)
    accuracy = (log_probs_N_C.argmax(dim=1) == labels_N).double().mean()
    nll = -log_probs_N_C.gather(1, labels_N.unsqueeze(1)).mean()
    return Evaluation(accuracy=float(accuracy), nll=float(nll))
