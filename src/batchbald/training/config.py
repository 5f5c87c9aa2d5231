"""Training hyperparameters (BatchBALD paper, and the report's regime: docs/protocol.md §1–2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from batchbald.devices import available_devices, device_problem
from batchbald.errors import ConfigError

__all__ = ["EARLY_STOPPING_METRICS", "OPTIMIZERS", "TrainingConfig"]

EARLY_STOPPING_METRICS = ("accuracy", "nll")
OPTIMIZERS = ("adam", "sgd")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class TrainingConfig:
    """How one model is trained at one acquisition step. Defaults: the BatchBALD MNIST regime.

    Attributes:
        lr: Adam learning rate (betas 0.9, 0.999).
        batch_size: examples per optimiser step.
        epoch_size: examples per "epoch", however small the labelled set. Examples come from an
            endless stream of independent random permutations of the set (every point appears
            equally often up to ±1 over a run, never twice in a row within one permutation);
            an epoch takes the next ``epoch_size`` of them. 5,056 for MNIST (20,224 EMNIST,
            24,576 in the PowerEvaluationBALD report).
        max_epochs: upper bound on epochs (30 MNIST; 40 Repeated-MNIST/EMNIST; 10 report).
        patience: stop after this many epochs without strict improvement of the validation
            metric; the best weights are restored.
        early_stopping: "accuracy" (BatchBALD) or "nll" (PowerEvaluationBALD report).
        weight_decay: Adam's (coupled, L2) weight decay; 0 in BatchBALD, 5e-4 in the report.
        validation_samples: MC dropout samples for validation; 0 means dropout off (the
            deterministic network, as the BatchBALD paper validates); 4 in the report.
        device: torch device string for training ("cpu", "cuda", "cuda:1", ...); it must
            exist on this machine (:func:`batchbald.devices.available_devices`), checked here.
        channels_last: hold the convolution weights in the channels-last memory format during
            the optimisation steps (the same maths, rounded differently): MNIST CNN training
            1.14-1.16× faster on CPU, validation included (``benchmarks/training_regimes.py
            --layouts``). Validation and scoring always run in the default layout.
        optimizer: "adam" (the papers') or "sgd" (with ``momentum``).
        momentum: SGD momentum.
        class_weights: per-class weights of the training NLL (``C`` numbers), "balanced"
            (``n / (C · n_c)`` from the labelled set, classes without labels weight 1), or
            empty (unweighted).
        freeze: parameter-name prefixes kept fixed during training (e.g. ``["net.conv1"]``).
    """

    lr: float = 1e-3
    batch_size: int = 64
    epoch_size: int = 5056
    max_epochs: int = 30
    patience: int = 3
    early_stopping: str = "accuracy"
    weight_decay: float = 0.0
    validation_samples: int = 0
    device: str = "cpu"
    channels_last: bool = True
    optimizer: str = "adam"
    momentum: float = 0.9
    class_weights: tuple[float, ...] | str = ()
    freeze: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (_is_number(self.lr) and self.lr > 0):
            raise ConfigError(f"TrainingConfig.lr must be a finite number > 0; got {self.lr!r}")
        for name in ("batch_size", "epoch_size", "max_epochs", "patience"):
            value = getattr(self, name)
            if not (_is_int(value) and value >= 1):
                raise ConfigError(f"TrainingConfig.{name} must be an int ≥ 1; got {value!r}")
        if self.early_stopping not in EARLY_STOPPING_METRICS:
            raise ConfigError(
                "TrainingConfig.early_stopping must be one of "
                f"{', '.join(EARLY_STOPPING_METRICS)}; got {self.early_stopping!r}"
            )
        if not (_is_number(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(
                "TrainingConfig.weight_decay must be a finite number ≥ 0; "
                f"got {self.weight_decay!r}"
            )
        if not (_is_int(self.validation_samples) and self.validation_samples >= 0):
            raise ConfigError(
                "TrainingConfig.validation_samples must be an int ≥ 0 (0 = dropout off); "
                f"got {self.validation_samples!r}"
            )
        if not isinstance(self.channels_last, bool):
            raise ConfigError(
                f"TrainingConfig.channels_last must be true or false; got {self.channels_last!r}"
            )
        self._check_regime()
        problem = device_problem(self.device)
        if problem is not None:
            raise ConfigError(
                "TrainingConfig.device must be a device this machine has "
                f"({', '.join(available_devices())}); got {self.device!r}: {problem}"
            )

    def _check_regime(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"TrainingConfig.optimizer must be one of {', '.join(OPTIMIZERS)}; "
                f"got {self.optimizer!r}"
            )
        if not (_is_number(self.momentum) and 0 <= self.momentum < 1):
            raise ConfigError(f"TrainingConfig.momentum must lie in [0, 1); got {self.momentum!r}")
        weights = self.class_weights
        if weights != "balanced":
            if isinstance(weights, str) or not all(_is_number(w) and w >= 0 for w in weights):
                raise ConfigError(
                    "TrainingConfig.class_weights must be 'balanced' or a list of numbers ≥ 0; "
                    f"got {weights!r}"
                )
            object.__setattr__(self, "class_weights", tuple(float(w) for w in weights))
        if isinstance(self.freeze, str) or not all(isinstance(n, str) and n for n in self.freeze):
            raise ConfigError(
                "TrainingConfig.freeze must be a list of parameter-name prefixes; "
                f"got {self.freeze!r}"
            )
        object.__setattr__(self, "freeze", tuple(self.freeze))
