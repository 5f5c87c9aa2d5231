"""The active-learning loop with a fast fake learner: bookkeeping, stopping, resume, oracles."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, replace

import pytest
import torch

from batchbald.acquisition import Acquirer, get_acquirer, random_batch
from batchbald.data import NO_CLASS, ActiveLearningData, ImageData
from batchbald.errors import InvalidInputError, JointMutualInformationSaturationWarning
from batchbald.loop import (
    CANNOT_LABEL,
    ActiveLearningLoop,
    CallbackOracle,
    DatasetOracle,
    Fitted,
    LoopGenerators,
    LoopSettings,
)


# A fast stand-in learner: nearest class means whose K "posterior samples" jitter the means
# with noise from the dropout generator. It consumes every generator the way a real learner does
# (init, training, dropout), so the resume tests are meaningful, and it runs in milliseconds.
def toy_data(num_points: int, *, num_classes: int = 4, seed: int = 0, side: int = 4) -> ImageData:
    """Gaussian clusters in ``[N, 1, side, side]`` (labels cycle through the classes)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_points) % num_classes
    centres = torch.randn(num_classes, 1, side, side, generator=torch.Generator().manual_seed(99))
    inputs = centres[labels] + 0.9 * torch.randn(num_points, 1, side, side, generator=generator)
    return ImageData(inputs, labels, num_classes)


@dataclass
class NearestMeans:
    means_C_D: torch.Tensor
    temperature: float


class NearestMeanLearner:
    """Implements :class:`batchbald.loop.Learner` with a nearest-class-mean rule."""

    def __init__(self, num_classes: int, *, jitter: float = 0.5) -> None:
        self.num_classes = num_classes
        self.jitter = jitter
        self.fit_calls = 0
        self.distill_calls: list[int] = []

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        self.fit_calls += 1
        flat = train.inputs.flatten(1)
        means = torch.randn(self.num_classes, flat.shape[1], generator=generators.init)
        for c in range(self.num_classes):
            rows = flat[train.labels == c]
            if len(rows):
                means[c] = rows.mean(0)
        # "Training" consumes the training generator like minibatch shuffles would.
        epochs = 1 + int(torch.randint(0, 3, (), generator=generators.training))
        model = NearestMeans(means, temperature=float(flat.shape[1]))
        accuracy = self.evaluate(model, validation, generators)[0] if len(validation) else math.nan
        return Fitted(
            model, epochs_trained=epochs + 1, best_epoch=epochs, validation_accuracy=accuracy
        )

    def predict(self, model: NearestMeans, inputs, k: int, generators: LoopGenerators):
        flat = inputs.flatten(1)
        noise = torch.randn(k, *model.means_C_D.shape, generator=generators.dropout)
        means_K_C_D = model.means_C_D + self.jitter * noise
        distances_N_K_C = torch.cdist(flat.unsqueeze(0).expand(k, -1, -1), means_K_C_D).square()
        return torch.log_softmax(-distances_N_K_C / model.temperature * 4, dim=-1).permute(1, 0, 2)

    def evaluate(self, model: NearestMeans, data: ImageData, generators: LoopGenerators):
        log_probs = self.predict(model, data.inputs, 4, generators)
        probs = log_probs.exp().mean(1)
        accuracy = float((probs.argmax(-1) == data.labels).double().mean())
        nll = float(-probs.clamp_min(1e-12).log()[torch.arange(len(data)), data.labels].mean())
        return accuracy, nll

    def distill(self, teacher: NearestMeans, inputs, epochs: int, generators: LoopGenerators):
        self.distill_calls.append(epochs)
        noise = torch.randn(teacher.means_C_D.shape, generator=generators.init)
        return NearestMeans(teacher.means_C_D + 0.1 * noise, teacher.temperature)


DATA = toy_data(200)
TEST = toy_data(100, seed=1)


def make_loop(
    acquirer="bald",
    *,
    batch_size=4,
    budget=12,
    target=None,
    oracle=None,
    seed=0,
    k=5,
    target_set=None,
    learner=None,
) -> ActiveLearningLoop:
    split = ActiveLearningData(
        len(DATA), labelled_indices=[0, 1, 2, 3], validation_indices=[4, 5, 6, 7]
    )
    return ActiveLearningLoop(
        data=DATA,
        test=TEST,
        split=split,
        learner=learner or NearestMeanLearner(DATA.num_classes),
        acquirer=get_acquirer(acquirer) if isinstance(acquirer, str) else acquirer,
        oracle=oracle or DatasetOracle(DATA.labels),
        settings=LoopSettings(
            batch_size=batch_size, k=k, label_budget=budget, target_accuracy=target
        ),
        generators=LoopGenerators.from_seed(seed),
        target=target_set,
    )


def without_timings(records):
    return [{**record.to_dict(), "timings": None} for record in records]


def test_runs_to_the_label_budget_with_consistent_bookkeeping():
    loop = make_loop(batch_size=4, budget=10)
    records = loop.run()
    # Sizes 4, 8, 12, 14: the last batch is cut to the remaining budget (10 = 4 + 4 + 2).
    assert [r.train_size for r in records] == [4, 8, 12, 14]
    assert [len(r.acquired["indices"]) for r in records] == [4, 4, 2, 0]
    assert records[-1].stop_reason == "label_budget"
    assert all(r.stop_reason is None for r in records[:-1])
    acquired = [i for r in records for i in r.acquired["indices"]]
    assert len(set(acquired)) == 10 and not set(acquired) & {0, 1, 2, 3, 4, 5, 6, 7}
    assert loop.split.labelled_indices.tolist() == [0, 1, 2, 3, *acquired]
    for record in records:
        assert record.acquired["labels"] == DATA.labels[record.acquired["indices"]].tolist()
        assert sum(record.class_histogram) == record.train_size
        assert len(record.acquired["scores"]) == len(record.acquired["indices"])
        assert {"training", "evaluation"} <= set(record.timings)
    assert {"scoring", "acquisition"} <= set(records[0].timings)
    json.dumps([r.to_dict() for r in records])  # records are JSON-ready


def test_bald_acquires_its_top_scores():
    loop = make_loop(batch_size=3, budget=3)
    record = loop.step()
    scores = record.acquired["scores"]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_stops_at_target_accuracy():
    records = make_loop(target=0.0).run()
    assert len(records) == 1 and records[0].stop_reason == "target_accuracy"
    assert records[0].acquired["indices"] == []


def test_same_seed_same_run_and_different_seed_differs():
    first = without_timings(make_loop("random", seed=3).run())
    assert first == without_timings(make_loop("random", seed=3).run())
    assert first != without_timings(make_loop("random", seed=4).run())


@pytest.mark.parametrize("acquirer", ["bald", "power_bald", "random"])
@pytest.mark.parametrize("stop_after", [1, 2])
def test_resume_from_saved_state_is_identical(acquirer, stop_after):
    expected = without_timings(make_loop(acquirer, seed=5).run())
    interrupted = make_loop(acquirer, seed=5)
    for _ in range(stop_after):
        interrupted.step()
    # Round trip through JSON, as the runner's trial files do.
    state = json.loads(json.dumps(interrupted.state_dict()))
    resumed = make_loop(acquirer, seed=5)
    resumed.load_state_dict(state)
    assert without_timings(resumed.run()) == expected


def test_evaluation_model_is_trained_for_acquirers_that_need_it():
    loop = make_loop("evaluation_bald", budget=8)
    records = loop.run()
    assert len(loop.learner.distill_calls) == 2
    assert all(epochs >= 1 for epochs in loop.learner.distill_calls)
    assert "distillation" in records[0].timings
    assert "distillation" not in make_loop("bald").step().timings


def test_acquirers_that_ignore_predictions_skip_pool_scoring():
    loop = make_loop("random", budget=8)
    predicted_sizes = []
    predict = loop.learner.predict

    def recording_predict(model, inputs, k, generators):
        predicted_sizes.append(len(inputs))
        return predict(model, inputs, k, generators)

    loop.learner.predict = recording_predict
    records = loop.run()
    pool_size = len(DATA) - 8
    assert pool_size not in predicted_sizes  # only test/validation evaluations ran
    assert all(record.timings["scoring"] == 0.0 for record in records if record.acquired["indices"])


def test_acquirers_that_ignore_predictions_receive_the_pool_size():
    received = []

    def probe(pool, batch_size, *, generator=None):
        received.append(pool)
        return random_batch(pool, batch_size, generator=generator)

    loop = make_loop("random", budget=6, batch_size=3)
    loop.acquirer = Acquirer("probe", probe, "records its input", needs_predictions=False)
    loop.run()
    pool_size = len(DATA) - 8  # 4 labelled, 4 validation
    assert received == [pool_size, pool_size - 3]  # plain ints, never placeholder tensors
    assert all(type(pool) is int for pool in received)


def test_cannot_label_is_the_data_layers_no_class():
    assert CANNOT_LABEL == NO_CLASS == -1


def test_unlabellable_points_leave_the_pool_but_not_train():
    # The oracle cannot label even dataset indices (answers -1, CANNOT_LABEL).
    oracle = CallbackOracle(
        lambda idx: [-1 if i % 2 == 0 and i > 7 else int(DATA.labels[i]) for i in idx],
        num_classes=4,
    )
    loop = make_loop("random", oracle=oracle, batch_size=5, budget=10)
    records = loop.run()
    unlabellable = [i for r in records for i in r.acquired["indices"] if i % 2 == 0]
    assert unlabellable, "the random batches should contain some even indices"
    assert records[-1].train_size == 14  # the budget counts every acquired point
    assert sum(records[-1].class_histogram) == 14 - len(unlabellable)
    assert len(loop.training_data()) == 14 - len(unlabellable)


def test_human_oracle_sees_the_initial_set_then_each_batch():
    asked = []

    def human(indices):
        asked.append(list(indices))
        return [int(DATA.labels[i]) for i in indices]

    records = make_loop(oracle=CallbackOracle(human, num_classes=4), batch_size=4, budget=8).run()
    assert asked == [[0, 1, 2, 3], *[r.acquired["indices"] for r in records[:-1]]]


def test_pool_exhausted():
    data = toy_data(12)
    split = ActiveLearningData(len(data), labelled_indices=[0, 1, 2, 3], validation_indices=[4, 5])
    loop = ActiveLearningLoop(
        data=data, test=TEST, split=split, learner=NearestMeanLearner(4),
        acquirer=get_acquirer("bald"), oracle=DatasetOracle(data.labels),
        settings=LoopSettings(batch_size=4, k=3, label_budget=100),
        generators=LoopGenerators.from_seed(0),
    )  # fmt: skip
    records = loop.run()
    assert [r.train_size for r in records] == [4, 8, 10]
    assert records[-1].stop_reason == "pool_exhausted"
    with pytest.raises(InvalidInputError, match="already stopped"):
        loop.step()


def test_diagnostic_warnings_are_recorded_not_printed(recwarn):
    def warning_acquirer(log_probs_N_K_C, batch_size, *, generator=None):
        warnings.warn("joint MI near log K", JointMutualInformationSaturationWarning, stacklevel=1)
        warnings.warn("someone else's", DeprecationWarning, stacklevel=1)
        return get_acquirer("bald")(log_probs_N_K_C, batch_size)

    loop = make_loop()
    loop.acquirer = Acquirer("warning_bald", warning_acquirer, "test acquirer")
    record = loop.step()
    assert record.warnings == ["JointMutualInformationSaturationWarning: joint MI near log K"]
    assert [w.category for w in recwarn] == [DeprecationWarning]


def test_generator_states_round_trip():
    generators = LoopGenerators.from_seed(1)
    state = generators.state_dict()
    expected = torch.rand(3, generator=generators.acquisition)
    restored = LoopGenerators.from_seed(2)
    restored.load_state_dict(state)
    assert torch.equal(torch.rand(3, generator=restored.acquisition), expected)


def test_bad_settings():
    with pytest.raises(InvalidInputError, match="batch_size must be an int ≥ 1; got 0"):
        LoopSettings(batch_size=0, k=2, label_budget=5)
    with pytest.raises(InvalidInputError, match=r"target_accuracy must lie in \[0, 1\]"):
        LoopSettings(batch_size=1, k=2, label_budget=5, target_accuracy=95)


# --- Feature-based acquirers (issue 24): the loop passes pool and labelled features ----------
class EmbeddingLearner(NearestMeanLearner):
    """The fake learner with ``embed``: the flattened inputs are its features."""

    def __init__(self, num_classes: int) -> None:
        super().__init__(num_classes)
        self.embedded_sizes: list[int] = []

    def embed(self, model: NearestMeans, inputs, generators: LoopGenerators):
        self.embedded_sizes.append(len(inputs))
        return inputs.flatten(1)


@pytest.mark.parametrize("acquirer", ["badge", "coreset"])
def test_feature_acquirers_get_pool_and_labelled_embeddings(acquirer):
    loop = make_loop(acquirer, batch_size=4, budget=8)
    loop.learner = EmbeddingLearner(DATA.num_classes)
    first = loop.step()
    assert loop.learner.embedded_sizes == [len(DATA) - 8, 4]  # pool, then labelled set
    if acquirer == "coreset":
        from batchbald.acquisition import k_center_greedy

        pool = torch.arange(8, len(DATA))  # every point but the labelled and validation ones
        expected = k_center_greedy(
            DATA.inputs[pool].flatten(1), 4, labelled_features_L_D=DATA.inputs[:4].flatten(1)
        )
        assert pool[expected.indices].tolist() == first.acquired["indices"]
    records = loop.run()
    assert sum(len(r.acquired["indices"]) for r in records) == 8


def test_feature_acquirer_needs_a_learner_with_embed():
    with pytest.raises(
        InvalidInputError,
        match=r"acquirer 'coreset' needs embeddings, but the learner "
        r"NearestMeanLearner has no embed\(model, inputs, generators\) method",
    ):
        make_loop("coreset").step()


class CountingLearner(NearestMeanLearner):
    """Records how many inputs each ``predict`` call scores."""

    def __init__(self, num_classes: int) -> None:
        super().__init__(num_classes)
        self.scored: list[int] = []

    def predict(self, model, inputs, k, generators):
        self.scored.append(len(inputs))
        return super().predict(model, inputs, k, generators)


def spying_epig(received: list):
    """The registry's ``epig`` with a function that records its inputs before selecting."""
    epig = get_acquirer("epig")

    def spy(log_probs_N_K_C, batch_size, *, generator, target_log_probs_T_K_C=None, **params):
        received.append((log_probs_N_K_C, target_log_probs_T_K_C))
        return epig.fn(
            log_probs_N_K_C,
            batch_size,
            generator=generator,
            target_log_probs_T_K_C=target_log_probs_T_K_C,
            **params,
        )

    return replace(epig, fn=spy)


def test_epig_gets_the_target_set_scored_with_the_pools_posterior_samples():
    """A target input equal to a pool input gets the same K log-probabilities (one call)."""
    pool_row = 50
    others = toy_data(9, seed=7)
    inputs = torch.cat([DATA.inputs[pool_row : pool_row + 1], others.inputs])
    target_set = ImageData(inputs, torch.full((10,), NO_CLASS), DATA.num_classes)
    received: list = []
    loop = make_loop(spying_epig(received), budget=8, target_set=target_set)
    pool_before = []
    while not loop.done:
        pool_before.append(list(loop.split.pool_indices))
        loop.step()
    assert len(received) == 2
    for (pool_N_K_C, target_T_K_C), pool in zip(received, pool_before, strict=False):
        assert pool_N_K_C.shape == (len(pool), 5, DATA.num_classes)
        assert target_T_K_C.shape == (10, 5, DATA.num_classes)
        if pool_row in pool:
            # Same samples: equal up to cdist rounding (other samples differ by ~0.1 and more).
            torch.testing.assert_close(
                target_T_K_C[0], pool_N_K_C[pool.index(pool_row)], rtol=0, atol=1e-5
            )


def test_without_a_target_set_epig_draws_its_targets_from_the_pool():
    received: list = []
    make_loop(spying_epig(received), budget=4).run()
    assert received and all(target is None for _, target in received)


def test_rules_without_targets_never_score_the_target_set():
    learner = CountingLearner(DATA.num_classes)
    loop = make_loop("bald", budget=4, target_set=toy_data(10, seed=7), learner=learner)
    loop.run()
    pool_sizes = {len(DATA) - 8, len(DATA) - 12}
    assert set(learner.scored) - {len(TEST), 4} <= pool_sizes
