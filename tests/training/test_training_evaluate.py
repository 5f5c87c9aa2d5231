"""evaluate (MC-averaged accuracy and NLL) and self_distill."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule, predict_log_probs
from batchbald.training import TrainingConfig, evaluate, marginal_log_probs, self_distill


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class TableModel(BayesianModule):
    """No dropout: input i (one-hot) gets the fixed probabilities table[i]."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.table = nn.Parameter(table.log())

    def stochastic(self, hidden, k, *, generator):
        return hidden @ self.table


def test_evaluate_on_known_probabilities():
    table = torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]])
    data = ImageData(torch.eye(3), torch.tensor([0, 1, 0]), 3)
    result = evaluate(TableModel(table), data, 4, generator=_gen(0))
    assert result.accuracy == pytest.approx(2 / 3)  # point 1 is predicted as class 2
    assert result.nll == pytest.approx(-(math.log(0.7) + math.log(0.3) + math.log(0.5)) / 3)


def test_evaluate_averages_probabilities_not_log_probabilities(tiny_mlp):
    model = tiny_mlp(0)
    data = ImageData(torch.randn(40, 4, generator=_gen(1)), torch.arange(40) % 3, 3)
    log_probs_N_K_C = predict_log_probs(model, data.inputs, 6, generator=_gen(2)).double()
    mean_probs_N_C = log_probs_N_K_C.exp().mean(dim=1)  # probability-space reference
    result = evaluate(model, data, 6, generator=_gen(2))
    expected_accuracy = (mean_probs_N_C.argmax(1) == data.labels).double().mean().item()
    expected_nll = -mean_probs_N_C[torch.arange(40), data.labels].log().mean().item()
    assert result.accuracy == pytest.approx(expected_accuracy)
    assert result.nll == pytest.approx(expected_nll, rel=1e-6)


def test_zero_samples_means_dropout_off(tiny_mlp):
    model = tiny_mlp(0)
    inputs = torch.randn(5, 4, generator=_gen(1))
    with torch.no_grad():
        expected = F.log_softmax(model.out(F.relu(model.hidden(inputs))), dim=1).double()
    torch.testing.assert_close(marginal_log_probs(model, inputs, 0), expected)


def test_evaluate_rejects_bad_input(tiny_mlp):
    model = tiny_mlp(0)
    with pytest.raises(InvalidInputError, match=r"k must be an int ≥ 0 \(0 = dropout off\)"):
        evaluate(model, ImageData(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), 3), -1)
    with pytest.raises(InvalidInputError, match="at least one labelled point"):
        evaluate(model, ImageData(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 3), 2)


def _kl(teacher_N_C: torch.Tensor, student: BayesianModule, inputs: torch.Tensor) -> float:
    student_N_C = marginal_log_probs(student, inputs, 0)
    return float((teacher_N_C.exp() * (teacher_N_C - student_N_C)).sum(1).mean())


def test_self_distill_moves_student_towards_teacher(tiny_mlp):
    teacher, student = tiny_mlp(0), tiny_mlp(1)
    inputs = torch.randn(200, 4, generator=_gen(2)) * 2
    teacher_before = [p.clone() for p in teacher.parameters()]
    targets = marginal_log_probs(teacher, inputs, 8, generator=_gen(3))
    before = _kl(targets, student, inputs)
    config = TrainingConfig(batch_size=16, epoch_size=400, lr=1e-2)
    trained = self_distill(teacher, student, inputs, config, 4, k=8, generator=_gen(3))
    assert trained is student
    assert not trained.training
    assert _kl(targets, trained, inputs) < 0.5 * before
    for before_param, after_param in zip(teacher_before, teacher.parameters(), strict=True):
        assert torch.equal(before_param, after_param)


def test_self_distill_runs_the_given_number_of_epochs_reproducibly(tiny_mlp):
    inputs = torch.randn(30, 4, generator=_gen(2))
    config = TrainingConfig(batch_size=10, epoch_size=25)

    def run() -> tuple[BayesianModule, list[int]]:
        student, sizes = tiny_mlp(1), []
        student.hidden.register_forward_hook(
            lambda _m, args, _o: sizes.append(args[0].shape[0]) if student.training else None
        )
        return self_distill(tiny_mlp(0), student, inputs, config, 3, k=2, generator=_gen(4)), sizes

    (first, sizes), (second, _) = run(), run()
    assert sizes == [10, 10, 5] * 3
    assert torch.equal(first.out.weight, second.out.weight)


def test_self_distill_rejects_bad_epochs(tiny_mlp):
    with pytest.raises(InvalidInputError, match="epochs must be an int ≥ 1; got 0"):
        self_distill(tiny_mlp(0), tiny_mlp(1), torch.zeros(3, 4), TrainingConfig(), 0, k=2)
