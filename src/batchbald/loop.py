"""The active-learning loop: train → evaluate → score the pool → acquire → ask the oracle.

The loop knows nothing about MNIST or CNNs: a :class:`Learner` trains, evaluates and scores;
an acquirer from the registry picks pool positions; an oracle
(:class:`~batchbald.oracle.Oracle`) answers labels; :class:`~batchbald.data.ActiveLearningData`
tracks the split. All randomness comes from :class:`LoopGenerators`, one generator per consumer,
whose states are part of :meth:`ActiveLearningLoop.state_dict`, so a loop restored from a saved
state continues exactly as the uninterrupted loop would have.
"""

from __future__ import annotations

import base64
import hashlib
import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

import torch

from batchbald.acquisition import Acquirer
from batchbald.acquisition.registry import placeholder_log_probs
from batchbald.data import CANNOT_LABEL, ActiveLearningData, ImageData
from batchbald.errors import BatchBALDWarning, InvalidInputError
from batchbald.oracle import Oracle, check_labels

_UNASKED = -2

__all__ = [
    "ActiveLearningLoop",
    "Fitted",
    "Learner",
    "LoopGenerators",
    "LoopSettings",
    "StepRecord",
    "derive_seed",
]


@dataclass
class LoopGenerators:
    """One ``torch.Generator`` per consumer, all derived from a trial seed.

    Attributes:
        split: the initial labelled set and the validation set.
        init: weight initialisation of every fresh model.
        training: minibatch sampling and training-time dropout masks.
        dropout: consistent MC dropout masks for pool scoring and evaluation.
        acquisition: sampling inside acquirers (random, PowerBALD, BatchBALD's samples).
    """

    split: torch.Generator
    init: torch.Generator
    training: torch.Generator
    dropout: torch.Generator
    acquisition: torch.Generator

    @classmethod
    def from_seed(cls, seed: int) -> LoopGenerators:
        """Independent generators: consumer ``name`` is seeded by SHA-256 of ``"{seed}/{name}"``.

        >>> first, second = LoopGenerators.from_seed(0), LoopGenerators.from_seed(1)
        >>> first.init.initial_seed() != second.init.initial_seed()
        True
        """
        return cls(
            **{name: torch.Generator().manual_seed(derive_seed(seed, name)) for name in _names()}
        )

    def state_dict(self) -> dict[str, str]:
        """Each generator's state, base64 text (JSON-ready)."""
        return {
            name: base64.b64encode(bytes(getattr(self, name).get_state().tolist())).decode()
            for name in _names()
        }

    def load_state_dict(self, state: dict[str, str]) -> None:
        """Restore the states written by :meth:`state_dict`."""
        for name in _names():
            raw = base64.b64decode(state[name])
            getattr(self, name).set_state(torch.tensor(list(raw), dtype=torch.uint8))


def _names() -> list[str]:
    return [item.name for item in fields(LoopGenerators)]


def derive_seed(seed: int, name: str) -> int:
    """A 63-bit seed for consumer ``name``, from SHA-256 of ``"{seed}/{name}"`` (stable).

    >>> derive_seed(0, "init") == derive_seed(0, "init") != derive_seed(0, "training")
    True
    """
    return int.from_bytes(hashlib.sha256(f"{seed}/{name}".encode()).digest()[:8], "little") >> 1


@dataclass(frozen=True)
class Fitted:
    """A trained model and what training reports about it."""

    model: Any
    epochs_trained: int
    best_epoch: int
    validation_accuracy: float = math.nan


class Learner(Protocol):
    """What the loop needs from a model family and its training recipe.

    ``experiments.learner.BayesianLearner`` implements it with the package's MC-dropout CNNs.
    """

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """A fresh model (init from ``generators.init``) trained on ``train``."""
        ...

    def evaluate(
        self, model: Any, data: ImageData, generators: LoopGenerators
    ) -> tuple[float, float]:
        """(accuracy, NLL) of ``model`` on ``data``."""
        ...

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """Log-probabilities ``[N, K, C]`` with K consistent MC dropout masks."""
        ...

    def distill(
        self, teacher: Any, inputs: torch.Tensor, epochs: int, generators: LoopGenerators
    ) -> Any:
        """A fresh evaluation model self-distilled from ``teacher`` on ``inputs``."""
        ...


@dataclass(frozen=True)
class LoopSettings:
    """Batch size, MC samples and stopping rule of one loop.

    Attributes:
        batch_size: b, points acquired per step (the last step may take fewer).
        k: MC dropout samples to score the pool.
        label_budget: stop once this many points have been acquired (initial set excluded).
        target_accuracy: stop as soon as a model reaches this test accuracy (None: never).
    """

    batch_size: int
    k: int
    label_budget: int
    target_accuracy: float | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "k", "label_budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
        if self.target_accuracy is not None and not 0.0 <= self.target_accuracy <= 1.0:
            raise InvalidInputError(
                f"target_accuracy must lie in [0, 1]; got {self.target_accuracy}"
            )


@dataclass(frozen=True)
class StepRecord:
    """What happened at one step (one trained model).

    Attributes:
        step: 0, 1, ...
        train_size: labelled points (initial + acquired) the model was trained with.
        test_accuracy, test_nll: of the model on the test set.
        validation_accuracy: best validation accuracy during training.
        epochs_trained, best_epoch: from training.
        acquired: ``indices`` (dataset indices), ``scores`` and ``labels`` (oracle answers) of
            the batch acquired after evaluation; empty lists at the last step.
        class_histogram: labelled points per class (oracle answers) the model was trained on.
        timings: seconds per phase: training, distillation, evaluation, scoring, acquisition.
        stop_reason: why the loop stopped after this step ("target_accuracy",
            "label_budget", "pool_exhausted"), else None.
        warnings: diagnostic warnings (:class:`~batchbald.errors.BatchBALDWarning`) raised
            during the step, as "Category: message" strings. They are recorded here instead
            of being printed at every step.
    """

    step: int
    train_size: int
    test_accuracy: float
    test_nll: float
    validation_accuracy: float
    epochs_trained: int
    best_epoch: int
    acquired: dict[str, list]
    class_histogram: list[int]
    timings: dict[str, float] = field(default_factory=dict)
    stop_reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> StepRecord:
        return cls(
            **{item.name: payload[item.name] for item in fields(cls) if item.name in payload}
        )


class ActiveLearningLoop:
    """Runs active learning on ``data`` with one acquirer; see the module docstring.

    Args:
        data: the training data (pool, labelled and validation points all index into it).
        test: the test set.
        split: the labelled/pool/validation split (updated in place as points are acquired).
        learner: trains, evaluates and scores (:class:`Learner`).
        acquirer: from :func:`batchbald.acquisition.get_acquirer`.
        oracle: answers labels for dataset indices; asked for the initial set at construction.
        settings: batch size, k and the stopping rule.
        generators: one per consumer (:class:`LoopGenerators`).
    """

    def __init__(
        self,
        *,
        data: ImageData,
        test: ImageData,
        split: ActiveLearningData,
        learner: Learner,
        acquirer: Acquirer,
        oracle: Oracle,
        settings: LoopSettings,
        generators: LoopGenerators,
    ) -> None:
        self.data, self.test, self.split = data, test, split
        self.learner, self.acquirer, self.oracle = learner, acquirer, oracle
        self.settings, self.generators = settings, generators
        self.records: list[StepRecord] = []
        # Oracle answers by dataset index; points not asked yet hold _UNASKED. The initial set
        # is asked at the first step, so restoring a saved state never asks twice.
        self.answers_N = torch.full((len(data),), _UNASKED, dtype=torch.long)
        self.initial_size = len(split.labelled_indices)

    @property
    def done(self) -> bool:
        """True once a step recorded a stop reason."""
        return bool(self.records) and self.records[-1].stop_reason is not None

    @property
    def num_acquired(self) -> int:
        return len(self.split.labelled_indices) - self.initial_size

    def training_data(self) -> ImageData:
        """Labelled points with the oracle's answers; unlabellable answers are left out."""
        labelled = torch.as_tensor(self.split.labelled_indices, dtype=torch.long)
        unasked = labelled[self.answers_N[labelled] == _UNASKED]
        if len(unasked):
            self._ask(unasked)
        kept = labelled[self.answers_N[labelled] != CANNOT_LABEL]
        answers = self.answers_N[kept]
        return replace(self.data.subset(kept), labels=answers, oracle_labels=answers)

    def _ask(self, dataset_indices_b: torch.Tensor) -> torch.Tensor:
        answer = check_labels(
            self.oracle(dataset_indices_b), len(dataset_indices_b), self.data.num_classes
        )
        self.answers_N[dataset_indices_b] = answer
        return answer

    def run(self, on_step: Callable[[StepRecord], None] | None = None) -> list[StepRecord]:
        """Step until a stop reason; ``on_step(record)`` runs after every step."""
        while not self.done:
            record = self.step()
            if on_step is not None:
                on_step(record)
        return self.records

    def step(self) -> StepRecord:
        """Train, evaluate, and unless a stop condition holds, acquire one batch."""
        if self.done:
            raise InvalidInputError("the loop has already stopped; no more steps to run")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BatchBALDWarning)
            record = self._step()
        ours = [w for w in caught if issubclass(w.category, BatchBALDWarning)]
        for other in caught:  # not ours: passed on unchanged
            if other not in ours:
                warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
        if ours:
            record = replace(record, warnings=[f"{w.category.__name__}: {w.message}" for w in ours])
        self.records.append(record)
        return record

    def _step(self) -> StepRecord:
        timings: dict[str, float] = {}
        train = self.training_data()
        validation = self.data.subset(self.split.validation_indices)
        with _timed(timings, "training"):
            fitted = self.learner.fit(train, validation, self.generators)
        with _timed(timings, "evaluation"):
            accuracy, nll = self.learner.evaluate(fitted.model, self.test, self.generators)
        stop_reason = self._stop_reason(accuracy)
        acquired: dict[str, list] = {"indices": [], "scores": [], "labels": []}
        if stop_reason is None:
            acquired = self._acquire(fitted, train, timings)
        return StepRecord(
            step=len(self.records),
            train_size=len(self.split.labelled_indices) - len(acquired["indices"]),
            test_accuracy=float(accuracy),
            test_nll=float(nll),
            validation_accuracy=float(fitted.validation_accuracy),
            epochs_trained=int(fitted.epochs_trained),
            best_epoch=int(fitted.best_epoch),
            acquired=acquired,
            class_histogram=torch.bincount(train.labels, minlength=self.data.num_classes).tolist(),
            timings=timings,
            stop_reason=stop_reason,
        )

    def _stop_reason(self, accuracy: float) -> str | None:
        target = self.settings.target_accuracy
        if target is not None and accuracy >= target:
            return "target_accuracy"
        if self.num_acquired >= self.settings.label_budget:
            return "label_budget"
        if not len(self.split.pool_indices):
            return "pool_exhausted"
        return None

    def _acquire(self, fitted: Fitted, train: ImageData, timings: dict[str, float]) -> dict:
        pool = torch.as_tensor(self.split.pool_indices, dtype=torch.long)
        pool_inputs = self.data.inputs[pool]
        k = self.settings.k
        if self.acquirer.needs_predictions:
            with _timed(timings, "scoring"):
                log_probs = self.learner.predict(fitted.model, pool_inputs, k, self.generators)
        else:  # e.g. random: scoring the pool would only cost time
            log_probs = placeholder_log_probs(len(pool))
            timings["scoring"] = 0.0
        eval_log_probs = None
        if self.acquirer.needs_eval_model:
            with _timed(timings, "distillation"):
                inputs = torch.cat([train.inputs, pool_inputs])
                student = self.learner.distill(
                    fitted.model, inputs, max(fitted.best_epoch, 1), self.generators
                )
            with _timed(timings, "scoring"):
                eval_log_probs = self.learner.predict(student, pool_inputs, k, self.generators)
        batch_size = min(
            self.settings.batch_size, self.settings.label_budget - self.num_acquired, len(pool)
        )
        with _timed(timings, "acquisition"):
            result = self.acquirer(
                log_probs,
                batch_size,
                generator=self.generators.acquisition,
                eval_log_probs_N_K_C=eval_log_probs,
            )
        dataset_indices = torch.as_tensor(self.split.acquire(result.indices), dtype=torch.long)
        labels = self._ask(dataset_indices)
        return {
            "indices": dataset_indices.tolist(),
            "scores": [float(score) for score in result.scores],
            "labels": labels.tolist(),
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue: split, oracle answers, generators, records."""
        labelled = torch.as_tensor(self.split.labelled_indices, dtype=torch.long)
        return {
            "split": self.split.state_dict(),
            "answers": {"indices": labelled.tolist(), "labels": self.answers_N[labelled].tolist()},
            "initial_size": self.initial_size,
            "generators": self.generators.state_dict(),
            "records": [record.to_dict() for record in self.records],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s output (the oracle is not asked again)."""
        self.split = ActiveLearningData.from_state_dict(state["split"])
        self.answers_N.fill_(_UNASKED)
        answers = state["answers"]
        self.answers_N[torch.as_tensor(answers["indices"], dtype=torch.long)] = torch.as_tensor(
            answers["labels"], dtype=torch.long
        )
        self.initial_size = int(state["initial_size"])
        self.generators.load_state_dict(state["generators"])
        self.records = [StepRecord.from_dict(record) for record in state["records"]]


@contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - start
