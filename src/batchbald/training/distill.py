"""Self-distillation of an evaluation model (PowerEvaluationBALD report §6.1.1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule
from batchbald.training._epochs import PermutationStream, run_epoch
from batchbald.training.config import TrainingConfig
from batchbald.training.evaluate import marginal_log_probs
from batchbald.training.train import check_model

__all__ = ["self_distill"]


def self_distill(
    teacher: BayesianModule,
    student: BayesianModule,
    inputs: torch.Tensor,
    config: TrainingConfig,
    epochs: int,
    *,
    k: int,
    generator: torch.Generator | None = None,
) -> BayesianModule:
    """Train ``student`` to match the teacher's MC-averaged predictive distribution.

    The targets ``p̄(y | x) = mean_k p(y | x, ω_k)`` are computed once up front over ``inputs``
    with K consistent masks; the student (freshly initialised by the caller) is then trained
    for exactly ``epochs`` fixed-length epochs (``config.epoch_size`` examples each, drawn as
    in :class:`TrainingConfig`) with Adam (``config.lr``, ``config.weight_decay``), one dropout
    sample per example, minimising ``KL(p̄ ‖ p_student)``. No early stopping.

    Args:
        teacher: the trained main model (unchanged).
        student: a fresh model of the same output size; trained in place on ``config.device``.
        inputs: float ``[N, ...]``, the training set ∪ pool inputs.
        config: learning rate, weight decay, batch and epoch size, device.
        epochs: number of epochs (the main model's best epoch), ≥ 1.
        k: MC samples for the teacher's predictive (0 = dropout off).
        generator: source of the teacher masks, permutations and student dropout masks.

    Returns:
        ``student``, trained, in eval mode.
    """
    _check_arguments(teacher, student, inputs, epochs)
    device = torch.device(config.device)
    teacher.to(device)
    # [N, C] log p̄(y|x), computed once; float32 for the student's loss.
    targets_N_C = marginal_log_probs(teacher, inputs, k, generator=generator).float()
    student.to(device)
    _fit_student(student, inputs, targets_N_C, config, epochs, generator)
    student.eval()
    return student


def _check_arguments(
    teacher: BayesianModule, student: BayesianModule, inputs: torch.Tensor, epochs: int
) -> None:
    check_model(teacher)
    check_model(student)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InvalidInputError(f"epochs must be an int ≥ 1; got {epochs!r}")
    if not isinstance(inputs, torch.Tensor) or inputs.dim() < 2 or inputs.shape[0] == 0:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise InvalidInputError(f"inputs must be a non-empty float tensor [N, ...]; got {shape}")


def _fit_student(
    student: BayesianModule,
    inputs: torch.Tensor,
    targets_N_C: torch.Tensor,
    config: TrainingConfig,
    epochs: int,
    generator: torch.Generator | None,
) -> None:
    """``epochs`` epochs of Adam on ``KL(p̄ ‖ p_student)``, one dropout sample per example."""
    device = torch.device(config.device)
    optimizer = torch.optim.Adam(
        student.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    stream = PermutationStream(inputs.shape[0], generator=generator)

    def batch_loss(batch: torch.Tensor) -> torch.Tensor:
        batch_inputs = inputs[batch].to(device)
        log_probs_B_C = student(batch_inputs, 1, generator=generator).squeeze(1)
        target_B_C = targets_N_C[batch].to(device)
        return F.kl_div(log_probs_B_C, target_B_C, reduction="batchmean", log_target=True)

    for _ in range(epochs):
        run_epoch(student, optimizer, stream.take(config.epoch_size), batch_loss, config)
