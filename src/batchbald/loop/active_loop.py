"""The active-learning loop: train → evaluate → score the pool → acquire → ask the oracle.

The loop knows nothing about MNIST or CNNs: a :class:`~batchbald.loop.Learner` trains,
evaluates and scores; an acquirer from the registry picks pool positions; an oracle
(:class:`~batchbald.loop.Oracle`) answers labels; :class:`~batchbald.data.ActiveLearningData`
tracks the split. All randomness comes from :class:`~batchbald.loop.LoopGenerators`, one
generator per consumer, whose states are part of :meth:`ActiveLearningLoop.state_dict`, so a
loop restored from a saved state continues exactly as the uninterrupted loop would have.

Acquirers are called as ``acquirer(predictions, batch_size, generator=...,
eval_log_probs_N_K_C=...)``. ``predictions`` are the pool's log-probabilities ``[N, K, C]``;
for an acquirer with ``needs_predictions=False`` (``random``), which ignores the model, the
pool is not scored and ``predictions`` is the pool size N, an ``int``. Acquirers with
``needs_embeddings`` (BADGE, coreset) also get ``embeddings_N_D`` and ``labelled_embeddings_L_D``
from the learner's ``embed`` (penultimate features of the pool and of the labelled points).
Acquirers that ``uses_targets`` (the EPIG family) get ``target_log_probs_T_K_C`` when the loop
has a ``target`` set: its inputs are scored in the same call as the pool, so with the same K
posterior samples; without one they draw their targets from the pool.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch

from batchbald.data import ActiveLearningData
from batchbald.errors import BatchBALDWarning, InvalidInputError
from batchbald.loop.oracle import CANNOT_LABEL, check_labels
from batchbald.loop.records import StepRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from batchbald.acquisition import Acquirer
    from batchbald.data import ImageData
    from batchbald.loop.generators import LoopGenerators
    from batchbald.loop.learner import Fitted, Learner
    from batchbald.loop.oracle import Oracle
    from batchbald.loop.settings import LoopSettings

__all__ = ["ActiveLearningLoop"]

#: The answer slot of a point the oracle has not been asked about yet.
_UNASKED = -2


class ActiveLearningLoop:
    """Runs active learning on ``data`` with one acquirer; see the module docstring.

    Args:
        data: the training data (pool, labelled and validation points all index into it).
        test: the test set.
        split: the labelled/pool/validation split (updated in place as points are acquired).
        learner: trains, evaluates and scores (:class:`~batchbald.loop.Learner`).
        acquirer: from :func:`batchbald.acquisition.get_acquirer`.
        oracle: answers labels for dataset indices; asked for the initial set at the first step.
        settings: batch size, k and the stopping rule.
        generators: one per consumer (:class:`~batchbald.loop.LoopGenerators`).
        target: unlabelled inputs from the distribution the model will be used on, for the
            acquirers that use targets (EPIG); never labelled, trained on or acquired.
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
        target: ImageData | None = None,
    ) -> None:
        self.data, self.test, self.split, self.target = data, test, split, target
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
        """Points acquired so far (the initial labelled set excluded)."""
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
        stop_reason = self.settings.stop_reason(
            accuracy=accuracy,
            num_acquired=self.num_acquired,
            pool_size=len(self.split.pool_indices),
        )
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

    def _acquire(self, fitted: Fitted, train: ImageData, timings: dict[str, float]) -> dict:
        pool = torch.as_tensor(self.split.pool_indices, dtype=torch.long)
        pool_inputs = self.data.inputs[pool]
        predictions, targets = self._pool_predictions(fitted, pool_inputs, timings)
        eval_log_probs = None
        if self.acquirer.needs_eval_model:
            eval_log_probs = self._eval_predictions(fitted, train, pool_inputs, timings)
        embeddings = self._embeddings(fitted, train, pool_inputs, timings)
        batch_size = min(
            self.settings.batch_size, self.settings.label_budget - self.num_acquired, len(pool)
        )
        with _timed(timings, "acquisition"):
            result = self.acquirer(
                predictions,
                batch_size,
                generator=self.generators.acquisition,
                eval_log_probs_N_K_C=eval_log_probs,
                target_log_probs_T_K_C=targets,
                **embeddings,
            )
        dataset_indices = torch.as_tensor(self.split.acquire(result.indices), dtype=torch.long)
        labels = self._ask(dataset_indices)
        return {
            "indices": dataset_indices.tolist(),
            "scores": [float(score) for score in result.scores],
            "labels": labels.tolist(),
        }

    def _pool_predictions(
        self, fitted: Fitted, pool_inputs: torch.Tensor, timings: dict[str, float]
    ) -> tuple[torch.Tensor | int, torch.Tensor | None]:
        """Pool log-probabilities ``[N, K, C]`` and the targets' ``[T, K, C]`` or ``None``.

        N itself replaces the pool's when the acquirer ignores predictions; the targets are
        scored in the same call as the pool (same K samples) for acquirers that use them.
        """
        if not self.acquirer.needs_predictions:  # e.g. random: scoring would only cost time
            timings["scoring"] = 0.0
            return len(pool_inputs), None
        target = self.target if self.acquirer.uses_targets else None
        inputs = pool_inputs if target is None else torch.cat([pool_inputs, target.inputs])
        with _timed(timings, "scoring"):
            log_probs = self.learner.predict(fitted.model, inputs, self.settings.k, self.generators)
        if target is None:
            return log_probs, None
        return log_probs[: len(pool_inputs)], log_probs[len(pool_inputs) :]

    def _eval_predictions(
        self, fitted: Fitted, train: ImageData, pool_inputs: torch.Tensor, timings: dict[str, float]
    ) -> torch.Tensor:
        """``[N, K, C]`` of an evaluation model self-distilled on the labelled points and pool."""
        with _timed(timings, "distillation"):
            inputs = torch.cat([train.inputs, pool_inputs])
            epochs = max(fitted.best_epoch, 1)
            student = self.learner.distill(fitted.model, inputs, epochs, self.generators)
        with _timed(timings, "scoring"):
            return self.learner.predict(student, pool_inputs, self.settings.k, self.generators)

    def _embeddings(
        self, fitted: Fitted, train: ImageData, pool_inputs: torch.Tensor, timings: dict
    ) -> dict[str, torch.Tensor]:
        """Pool and labelled features for acquirers with ``needs_embeddings`` (issue 24)."""
        if not self.acquirer.needs_embeddings:
            return {}
        embed = getattr(self.learner, "embed", None)
        if embed is None:
            raise InvalidInputError(
                f"acquirer {self.acquirer.name!r} needs embeddings, but the learner "
                f"{type(self.learner).__name__} has no embed(model, inputs, generators) method"
            )
        with _timed(timings, "scoring"):  # features are part of scoring the pool
            pool = embed(fitted.model, pool_inputs, self.generators)
            labelled = (
                embed(fitted.model, train.inputs, self.generators)
                if len(train)
                else pool.new_zeros(0, pool.shape[1])
            )
        return {"embeddings_N_D": pool, "labelled_embeddings_L_D": labelled}

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
