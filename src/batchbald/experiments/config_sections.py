"""The sections of an experiment config shared by all its methods: data, scoring, stopping.

Re-exported by :mod:`batchbald.experiments.config`, which assembles them into an
:class:`~batchbald.experiments.config.ExperimentConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchbald.experiments._checks import FieldError, check_float, check_int, check_str

__all__ = ["INITIAL_CHOICES", "DataConfig", "ScoringConfig", "StopConfig"]

INITIAL_CHOICES = ("paper_mnist", "balanced", "none")


@dataclass(frozen=True)
class DataConfig:
    """Which data, how it is subsampled and flawed, and how the first split is made.

    Attributes:
        dataset: a dataset name (``batchbald list`` shows them), e.g. "mnist", "synthetic".
        train_subsample: keep only this many training points, drawn at random *before* the
            flaws (so Repeated-MNIST keeps every copy of a kept image); the paper's initial
            points are always kept. 0 keeps all. Shrinks the pool for quick runs.
        test_subsample: evaluate on this many random test points; 0 uses the whole test set.
        flaws: dataset transforms applied in order to the training data, each a table with a
            ``name`` (``repeated``, ``class_imbalance``, ``noisy_oracle``,
            ``heteroscedastic_noise``, ``ood_contamination``) and its arguments, e.g.
            ``[[data.flaws]] name = "repeated"  copies = 3  noise_std = 0.1``.
        initial: "paper_mnist" (the papers' 20 MNIST indices), "balanced"
            (``initial_per_class`` random points per class, drawn per trial) or "none"
            (cold start).
        initial_per_class: points per class for ``initial = "balanced"``.
        validation_size: random validation points taken from the non-initial training points;
            0: none, the models are trained and selected from their labels alone (the
            campaigns' regime, :mod:`batchbald.training.labels_only`).
        target_size: hold out this many random training points (after ``train_subsample``,
            before the flaws, never the paper's initial points) as unlabelled *target inputs*:
            a sample of the distribution the model will be used on, for the acquirers that use
            targets (EPIG, PowerEPIG, BatchEPIG draw theirs from it instead of the pool). They
            are never labelled, trained on or acquired. 0: none.
        seed: seeds the subsamples and the flaws; shared by every trial and method, so all
            compare on the same data.
        source, test_source: a pool source instead of ``dataset`` (``folder:PATH``,
            ``csv:PATH``, ``npz:PATH``, ``features:PATH`` for embeddings; labels from class
            sub-folders, the label column or a ``labels`` array) and its test set (required
            unless ``validation_size = 0``); docs/campaigns.md.
    """

    dataset: str = "mnist"
    train_subsample: int = 0
    test_subsample: int = 0
    flaws: tuple[Mapping[str, Any], ...] = ()
    initial: str = "paper_mnist"
    initial_per_class: int = 2
    validation_size: int = 1024
    target_size: int = 0
    seed: int = 0
    source: str = ""
    test_source: str = ""

    def __post_init__(self) -> None:
        """Check every field; normalise ``flaws``."""
        check_str(self.dataset, "dataset")
        if self.source and not self.test_source and self.validation_size:
            raise FieldError("test_source", "is required with source unless validation_size = 0")
        check_int(self.train_subsample, "train_subsample", minimum=0)
        check_int(self.test_subsample, "test_subsample", minimum=0)
        check_str(self.initial, "initial", choices=INITIAL_CHOICES)
        check_int(self.initial_per_class, "initial_per_class", minimum=1)
        check_int(self.validation_size, "validation_size", minimum=0)
        check_int(self.target_size, "target_size", minimum=0)
        check_int(self.seed, "seed", minimum=0)
        from batchbald.experiments.components import check_flaws

        object.__setattr__(self, "flaws", check_flaws(self.flaws, "flaws"))


@dataclass(frozen=True)
class ScoringConfig:
    """Monte Carlo dropout samples for pool scoring and evaluation.

    Attributes:
        k: MC dropout samples (consistent masks) to score the pool.
        test_k: MC samples for test evaluation (probabilities averaged, then argmax).
        batch_size: inputs per inference chunk; 0 picks about 1024 (input, sample) rows per
            chunk. Memory and speed only: results do not depend on it.
    """

    k: int = 10
    test_k: int = 10
    batch_size: int = 0

    def __post_init__(self) -> None:
        """Check every field."""
        check_int(self.k, "k", minimum=1)
        check_int(self.test_k, "test_k", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=0)


@dataclass(frozen=True)
class StopConfig:
    """When a trial ends: after ``label_budget`` acquired labels or at ``target_accuracy``."""

    label_budget: int = 300
    target_accuracy: float | None = None

    def __post_init__(self) -> None:
        """Check every field."""
        check_int(self.label_budget, "label_budget", minimum=1)
        if self.target_accuracy is not None:
            value = check_float(self.target_accuracy, "target_accuracy", low=0.0, high=1.0)
            object.__setattr__(self, "target_accuracy", value)
