"""Deep ensembles trained member by member: own data order and init per member, from the
generators; bitwise the same for any number of worker threads and for the same seed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from batchbald.data import ImageData
from batchbald.loop import LoopGenerators
from batchbald.models import DeepEnsemble, ModelSpec, build_ensemble, predict_log_probs
from batchbald.models.init import init_weights
from batchbald.training import TrainingConfig, train_model
from batchbald.training.ensemble import EnsembleProgress, member_config, train_members
from batchbald.training.generic import GenericLearner
from batchbald.training.labels_only import LabelsOnlyRegime, train_labels_only_ensemble

CONFIG = TrainingConfig(epoch_size=24, batch_size=8, max_epochs=3, patience=1)


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _member(generator: torch.Generator | None) -> nn.Module:
    """Conv + batch norm + dropout (kept off in members) + linear: exercises oneDNN kernels."""
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Dropout(0.5), nn.Linear(4 * 6 * 6, 3))  # fmt: skip
    return init_weights(net, generator) if generator is not None else net


def _data(n: int, seed: int) -> ImageData:
    g = _g(seed)
    labels = torch.arange(n) % 3
    inputs = torch.randn(n, 1, 8, 8, generator=g) + labels.view(-1, 1, 1, 1).float()
    return ImageData(inputs, labels, 3)


def _train(workers: int, seed: int = 0, members: int = 3) -> DeepEnsemble:
    ensemble = build_ensemble(_member, members, generator=_g(seed))
    train, validation = _data(30, 1), _data(12, 2)

    def train_one(member, generator, index):
        return train_model(member, train, validation, member_config(CONFIG), generator=generator)

    trained, results = train_members(ensemble, train_one, generator=_g(seed + 100),
                                     workers=workers)  # fmt: skip
    assert len(results) == members
    return trained


def _bytes(model: nn.Module) -> list[bytes]:
    return [value.numpy().tobytes() for value in model.state_dict().values()]


@pytest.mark.parametrize("threads", [1, 2])
def test_workers_do_not_change_the_result(threads):
    torch.set_num_threads(threads)  # the fixture restores it
    one = _bytes(_train(workers=1))
    assert _bytes(_train(workers=2)) == one
    assert _bytes(_train(workers=3)) == one


def test_same_seed_same_bytes_and_members_differ():
    first, second = _train(workers=2), _train(workers=2)
    assert _bytes(first) == _bytes(second)
    assert _bytes(_train(workers=2, seed=1)) != _bytes(first)
    x = _data(5, 9).inputs
    log_probs = predict_log_probs(first, x, 3)
    assert (log_probs[:, 0] - log_probs[:, 1]).abs().max() > 1e-3


def test_each_member_sees_its_own_data_order():
    """Members that start from one initialisation end apart: only their data order differs
    (dropout is off in members, batch norm is deterministic)."""
    template = _member(_g(0))
    same_init = DeepEnsemble([template] * 3)
    train = _data(30, 1)
    orders = []

    def train_one(member, generator, index):
        orders.append((index, torch.randperm(30, generator=generator.clone_state())))
        return train_model(member, train, train, member_config(CONFIG), generator=generator)

    trained, _ = train_members(same_init, train_one, generator=_g(5), workers=1)
    networks = trained.member_networks()
    assert _bytes(networks[0]) != _bytes(networks[1]) != _bytes(networks[2])
    first_orders = [order for _, order in sorted(orders, key=lambda pair: pair[0])]
    assert not torch.equal(first_orders[0], first_orders[1])


def test_member_networks_round_trip():
    ensemble = build_ensemble(_member, 2, generator=_g(0)).eval()
    again = DeepEnsemble(ensemble.member_networks()).eval()
    x = _data(4, 3).inputs
    assert torch.equal(predict_log_probs(ensemble, x, 2), predict_log_probs(again, x, 2))


def test_member_init_does_not_depend_on_the_ensemble_size():
    small = build_ensemble(_member, 2, generator=_g(0)).member_networks()
    large = build_ensemble(_member, 4, generator=_g(0)).member_networks()
    assert _bytes(small[1]) == _bytes(large[1])


def test_labels_only_ensemble_is_worker_independent_and_reports_progress():
    train = _data(60, 4)
    regime = LabelsOnlyRegime(min_holdout_labels=20, fixed_epochs=2)

    def run(workers):
        seen = []
        result = train_labels_only_ensemble(
            build_ensemble(_member, 3, generator=_g(0)), train, CONFIG, regime,
            generator=_g(1), workers=workers, on_progress=seen.append,
        )  # fmt: skip
        return result, seen

    (first, seen), (second, _) = run(1), run(3)
    assert _bytes(first.model) == _bytes(second.model)
    assert first.regime == "held-out" and first.holdout_size > 0
    assert first.holdout_correct == second.holdout_correct
    assert seen == sorted(seen) and 0 < seen[0] and len(seen) >= 3


def test_ensemble_progress_is_the_members_mean():
    seen = []
    progress = EnsembleProgress(2, seen.append)
    progress.member(0)(0.5)
    progress.member(1)(1.0)
    progress.member(0)(0.25)  # never goes back
    assert seen == [0.25, 0.75, 0.75]


def test_generic_learner_trains_members_alone_whatever_the_workers():
    train, validation = _data(30, 1), _data(12, 2)

    def fit(workers):
        spec = ModelSpec("ensemble", members=3, member="mlp", hidden=8, workers=workers)
        learner = GenericLearner(spec, 3, CONFIG)
        return learner.fit(train, validation, LoopGenerators.from_seed(0))

    one, two = fit(1), fit(2)
    assert _bytes(one.model) == _bytes(two.model)
    assert one.epochs_trained == two.epochs_trained
    assert one.validation_accuracy == two.validation_accuracy
