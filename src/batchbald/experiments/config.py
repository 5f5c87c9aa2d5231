"""Experiment configurations: frozen, validated dataclasses loaded from TOML files.

One file describes one experiment: the data, model, training and scoring settings that all its
methods share, and a list of ``[[methods]]`` (acquirer + parameters + batch size). See
``docs/experiments.md`` for every key; ``configs/`` holds one file per paper experiment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from batchbald.errors import ConfigError
from batchbald.experiments._checks import (
    FieldError,
    build,
    check_int,
    check_name,
    check_str,
    join_path,
)
from batchbald.experiments.config_sections import DataConfig, ScoringConfig, StopConfig

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "MethodConfig",
    "ScoringConfig",
    "StopConfig",
    "load_config",
]


@dataclass(frozen=True)
class MethodConfig:
    """One acquisition method of an experiment.

    Attributes:
        acquirer: a registered acquirer name (``batchbald list``).
        batch_size: points acquired per step (b).
        name: label in results, tables and plots; defaults to ``<acquirer>_b<batch_size>``.
        params: acquirer hyperparameters (e.g. ``{num_samples = 10000}``, ``{coldness = 1.0}``).
        k: MC samples to score the pool for this method; 0 uses ``scoring.k``.
    """

    acquirer: str
    batch_size: int
    name: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    k: int = 0

    def __post_init__(self) -> None:
        check_str(self.acquirer, "acquirer")
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.k, "k", minimum=0)
        if not isinstance(self.params, Mapping):
            raise FieldError("params", f"must be a table; got {self.params!r}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        if not self.name:
            object.__setattr__(self, "name", f"{self.acquirer}_b{self.batch_size}")
        check_name(self.name, "name")
        _check_params(self.acquirer, self.params)

    def make_acquirer(self) -> Any:
        """The registry's :class:`~batchbald.acquisition.Acquirer` with ``params`` bound."""
        from batchbald.acquisition import get_acquirer

        return get_acquirer(self.acquirer, **self.params)


def _check_params(acquirer: str, params: Mapping[str, Any]) -> None:
    """Check ``params`` against the acquirer's declared types and ranges when a config is read.

    The declarations are those ``batchbald list`` shows; an error names the key, e.g.
    ``methods[0].params.lazy must be a bool``.
    """
    from batchbald.acquisition import ParameterError, check_params
    from batchbald.errors import UnknownNameError

    try:
        check_params(acquirer, params)
    except UnknownNameError as error:
        raise FieldError("acquirer", f"is invalid: {error}") from None
    except ParameterError as error:
        raise FieldError(join_path("params", error.parameter), error.detail) from None


def _training(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path} must be a table; got {type(value).__name__}")
    from batchbald.experiments.components import check_training_settings

    return MappingProxyType(check_training_settings(dict(value), path))


def _model(value: Any, path: str) -> Any:
    """``model = "name"`` stays a string; a ``[model]`` table becomes a ``ModelSpec``."""
    if isinstance(value, str):
        return value
    from batchbald.models import ModelSpec

    return build(ModelSpec, value, path)


def _methods(value: Any, path: str) -> tuple[MethodConfig, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"{path} must be a non-empty array of tables ([[methods]]); got {value!r}"
        )
    methods = tuple(build(MethodConfig, item, join_path(path, i)) for i, item in enumerate(value))
    names = [method.name for method in methods]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{path}: method names must be unique; repeated: {', '.join(duplicates)}")
    return methods


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: shared settings, the methods to compare, trials and seed.

    Attributes:
        name: names the output folder ``OUT/<name>/``.
        methods: the methods compared; all share every other setting.
        trials: trials per method (seeds ``seed``, ``seed + 1``, ...).
        seed: the first trial's seed.
        model: a model kind (``batchbald list``), e.g. "mnist_cnn", or a ``[model]`` table
            (:class:`batchbald.models.ModelSpec`: kind, posterior, weights, ...).
        training: training settings (fields of :class:`batchbald.training.TrainingConfig`).
    """

    name: str
    methods: tuple[MethodConfig, ...]
    description: str = ""
    trials: int = 1
    seed: int = 0
    model: Any = "mnist_cnn"
    data: DataConfig = field(default_factory=DataConfig)
    training: Mapping[str, Any] = field(default_factory=dict)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    stop: StopConfig = field(default_factory=StopConfig)

    def __post_init__(self) -> None:
        check_name(self.name, "name")
        if not isinstance(self.description, str):
            raise FieldError("description", f"must be a string; got {self.description!r}")
        check_int(self.trials, "trials", minimum=1)
        check_int(self.seed, "seed", minimum=0)
        from batchbald.models import ModelSpec, available_models

        if not isinstance(self.model, ModelSpec):
            check_str(self.model, "model", choices=available_models())
        if not self.methods:
            raise FieldError("methods", "must list at least one method")
        object.__setattr__(self, "methods", tuple(self.methods))
        _check_samples(self)
        object.__setattr__(self, "training", MappingProxyType(dict(self.training)))

    def method(self, name: str) -> MethodConfig:
        """The method called ``name``."""
        for method in self.methods:
            if method.name == name:
                return method
        valid = ", ".join(method.name for method in self.methods)
        raise ConfigError(f"experiment {self.name!r} has no method {name!r}; methods: {valid}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON/TOML-ready); :func:`config_from_dict` inverts it."""
        return _plain(self)


def _check_samples(config: ExperimentConfig) -> None:
    """K and test K against what the model gives and what each method needs (b ≤ K).

    An ensemble's members are its posterior samples, so ``k`` and ``test_k`` must not exceed
    ``model.members``; an acquirer declared ``batch_at_most_k`` (``thompson_bald``: one
    posterior sample per pick) needs ``batch_size`` ≤ the method's K. Checked when the config is
    read, not after the first model has trained.
    """
    from batchbald.acquisition import get_acquirer
    from batchbald.models import ModelSpec

    if isinstance(config.model, ModelSpec) and config.model.kind == "ensemble":
        members = config.model.members
        for key, k in (
            ("scoring.k", max(method.k or config.scoring.k for method in config.methods)),
            ("scoring.test_k", config.scoring.test_k),
        ):
            if k > members:
                raise FieldError(
                    key,
                    f"must be ≤ model.members = {members} for an ensemble (its members are "
                    f"the K posterior samples); got {key.split('.')[1]} = {k}",
                )
    for position, method in enumerate(config.methods):
        k = method.k or config.scoring.k
        if get_acquirer(method.acquirer).batch_at_most_k and method.batch_size > k:
            where = f"methods[{position}].k" if method.k else "scoring.k"
            raise FieldError(
                f"methods[{position}].batch_size",
                f"must be ≤ K = {k} ({where}) for {method.acquirer}, which uses one posterior "
                f"sample per pick; got {method.batch_size}. Raise {where} or lower batch_size",
            )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


_SECTIONS = {
    "data": lambda value, path: build(DataConfig, value, path),
    "scoring": lambda value, path: build(ScoringConfig, value, path),
    "stop": lambda value, path: build(StopConfig, value, path),
    "training": _training,
    "methods": _methods,
    "model": _model,
}


def config_from_dict(table: Mapping[str, Any], source: str = "<config>") -> ExperimentConfig:
    """Build and validate an :class:`ExperimentConfig` from a parsed TOML table.

    Raises:
        ConfigError: an unknown key or a bad value; the message starts with ``source`` and
            names the key's path.
    """
    if "methods" not in table:
        raise ConfigError(f"{source}: methods: missing; add at least one [[methods]] table")
    if "name" not in table:
        raise ConfigError(f'{source}: name: missing; add name = "..." at the top')
    try:
        return build(ExperimentConfig, table, "", _SECTIONS)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a TOML experiment file.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or holds an invalid config.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {str(path)!r}: {error.strerror}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return config_from_dict(table, str(path))
