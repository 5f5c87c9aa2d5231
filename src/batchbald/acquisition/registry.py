"""Acquirers by name: the one table the loop, the experiment configs and the CLI read.

An :class:`Acquirer` binds an acquisition function to checked hyperparameters and declares
what inputs it needs, so the loop never checks types:

    acquirer = get_acquirer("batchbald", num_samples=10_000)
    result = acquirer(log_probs_N_K_C, batch_size=10, generator=generator)

Registered functions have one of two signatures and return an
:class:`~batchbald.acquisition.result.AcquisitionResult`:

* ``fn(log_probs_N_K_C, batch_size, *, generator, **params)``, or
* ``fn(log_probs_N_K_C, eval_log_probs_N_K_C, batch_size, *, generator, **params)`` when
  ``needs_eval_model`` (the EvaluationBALD family; the loop then trains an evaluation model).

With ``needs_embeddings`` (BADGE, coreset) ``fn`` also takes the keyword inputs
``embeddings_N_D`` and ``labelled_embeddings_L_D``: penultimate features of the pool and of the
labelled points, from the model's ``embed(x) -> [B, D]`` (the loop computes them).

With ``uses_targets`` (the EPIG family) ``fn`` also takes ``target_log_probs_T_K_C``:
log-probabilities of unlabelled *target* inputs under the same K posterior samples as the pool
(the loop scores pool and targets in one call when the experiment holds out a target set,
``data.target_size``); ``None`` makes the rule draw its targets from the pool.

Every hyperparameter is declared with a :class:`~batchbald.acquisition.params.Param`
(type, default, range, doc) and checked by :func:`check_params` wherever it enters: the Python
API, ``batchbald acquire --param`` and the experiment configs. The entries themselves are in
:mod:`batchbald.acquisition.registrations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import torch

from batchbald.acquisition.params import Param, check_declared
from batchbald.acquisition.result import AcquisitionResult
from batchbald.errors import InvalidInputError, UnknownNameError

__all__ = [
    "Acquirer",
    "available_acquirers",
    "check_params",
    "get_acquirer",
    "register",
]

AcquireFn = Callable[..., AcquisitionResult]


@dataclass(frozen=True)
class Acquirer:
    """A named acquisition rule with its declared and bound hyperparameters.

    Attributes:
        name: registry name.
        fn: the acquisition function (signatures in the module docstring).
        description: one line for ``batchbald list`` and ``--help``.
        needs_eval_model: True when the rule also needs ``eval_log_probs_N_K_C`` from an
            evaluation model (EvaluationBALD family); the loop then trains one.
        params: hyperparameters given explicitly, checked (e.g. ``{"coldness": 8.0}``).
        needs_predictions: False when the rule ignores the model's predictions (random): the
            loop then skips scoring the pool and passes the pool size N (an int) instead.
        declared: the declarations of every hyperparameter ``fn`` takes.
        needs_embeddings: True when ``fn`` also takes ``embeddings_N_D`` and
            ``labelled_embeddings_L_D`` (penultimate features; the loop then computes them).
        batch_at_most_k: True when the rule needs ``batch_size`` ≤ K posterior samples
            (``thompson_bald``: one sample per pick); experiment configs check it when read.
        uses_targets: True when ``fn`` also takes ``target_log_probs_T_K_C`` (EPIG family):
            log-probabilities of target inputs; without them the rule samples the pool.
    """

    name: str
    fn: AcquireFn
    description: str
    needs_eval_model: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    needs_predictions: bool = True
    declared: tuple[Param, ...] = ()
    needs_embeddings: bool = False
    batch_at_most_k: bool = False
    uses_targets: bool = False

    def __post_init__(self) -> None:
        """Freeze ``params`` and ``declared``."""
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "declared", tuple(self.declared))

    def __call__(
        self,
        log_probs_N_K_C: Any,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        eval_log_probs_N_K_C: Any = None,
        embeddings_N_D: Any = None,
        labelled_embeddings_L_D: Any = None,
        target_log_probs_T_K_C: Any = None,
    ) -> AcquisitionResult:
        """Select ``batch_size`` pool points. See the registered function for shapes."""
        inputs = self._embedding_inputs(embeddings_N_D, labelled_embeddings_L_D)
        inputs.update(self._target_inputs(target_log_probs_T_K_C))
        if not self.needs_eval_model:
            return self.fn(
                log_probs_N_K_C, batch_size, generator=generator, **inputs, **self.params
            )
        if eval_log_probs_N_K_C is None:
            raise InvalidInputError(
                f"acquirer {self.name!r} needs eval_log_probs_N_K_C (log-probabilities "
                "of the evaluation model on the same pool); got None"
            )
        return self.fn(
            log_probs_N_K_C, eval_log_probs_N_K_C, batch_size, generator=generator, **self.params
        )

    def _embedding_inputs(self, embeddings_N_D: Any, labelled_embeddings_L_D: Any) -> dict:
        """The feature keywords for ``fn`` when it ``needs_embeddings`` (issue 24), else none."""
        if not self.needs_embeddings:
            return {}
        if embeddings_N_D is None:
            raise InvalidInputError(
                f"acquirer {self.name!r} needs embeddings_N_D (penultimate features [N, D] of "
                "the pool, from the model's embed(x)); got None"
            )
        return {
            "embeddings_N_D": embeddings_N_D,
            "labelled_embeddings_L_D": labelled_embeddings_L_D,
        }

    def _target_inputs(self, target_log_probs_T_K_C: Any) -> dict:
        """The target keyword for ``fn`` when it ``uses_targets``; an error for other rules."""
        if self.uses_targets:
            return {"target_log_probs_T_K_C": target_log_probs_T_K_C}
        if target_log_probs_T_K_C is not None:
            raise InvalidInputError(
                f"acquirer {self.name!r} takes no target_log_probs_T_K_C (only the EPIG family "
                f"uses target inputs); got a {type(target_log_probs_T_K_C).__name__}"
            )
        return {}

    @property
    def settings(self) -> dict[str, Any]:
        """Every declared hyperparameter's value: the defaults, overridden by ``params``."""
        return {**{param.name: param.default for param in self.declared}, **self.params}

    def with_params(self, **params: Any) -> Acquirer:
        """A copy with some hyperparameters replaced, each checked against its declaration.

        Raises:
            ParameterError: an undeclared name or a value of the wrong type or range.
        """
        checked = check_declared(self.declared, params, self.name)
        return replace(self, params={**self.params, **checked})

    def describe_params(self) -> str:
        """One line for ``batchbald list``: ``name=default (type and range)`` per parameter."""
        return ", ".join(
            f"{param.name}={param.default!r} ({param.describe()})" for param in self.declared
        )


_REGISTRY: dict[str, Acquirer] = {}


def register(
    name: str,
    fn: AcquireFn,
    *,
    description: str,
    params: Sequence[Param] = (),
    needs_eval_model: bool = False,
    needs_predictions: bool = True,
    needs_embeddings: bool = False,
    batch_at_most_k: bool = False,
    uses_targets: bool = False,
) -> Acquirer:
    """Add an acquirer to the registry (names are unique) and return it.

    Args:
        name: the registry name (configs, ``--method``).
        fn: the acquisition function (signatures in the module docstring).
        description: one line for ``batchbald list``.
        params: declarations of every keyword hyperparameter ``fn`` takes; each default must
            pass its own check.
        needs_eval_model: ``fn`` takes the evaluation model's log-probabilities.
        needs_predictions: False when ``fn`` only reads the pool size.
        needs_embeddings: ``fn`` takes the pool's and the labelled points' features.
        batch_at_most_k: ``fn`` needs ``batch_size`` ≤ K (checked at config load).
        uses_targets: ``fn`` takes ``target_log_probs_T_K_C`` (``None``: targets from the pool).
    """
    if name in _REGISTRY:
        raise ValueError(f"acquirer {name!r} is already registered")
    declared = tuple(params)
    check_declared(declared, {param.name: param.default for param in declared}, name)
    _REGISTRY[name] = Acquirer(
        name, fn, description, declared=declared, needs_eval_model=needs_eval_model,
        needs_predictions=needs_predictions, needs_embeddings=needs_embeddings,
        batch_at_most_k=batch_at_most_k, uses_targets=uses_targets,
    )  # fmt: skip
    return _REGISTRY[name]


def available_acquirers() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def _lookup(name: str) -> Acquirer:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown acquirer {name!r}; valid names: {', '.join(available_acquirers())}"
        ) from None


def get_acquirer(name: str, **params: Any) -> Acquirer:
    """The acquirer called ``name``, with ``params`` checked and overriding its defaults.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the valid names).
        ParameterError: an undeclared parameter name or a bad value (an
            :class:`~batchbald.errors.InvalidInputError`).
    """
    acquirer = _lookup(name)
    return acquirer.with_params(**params) if params else acquirer


def check_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check hyperparameters for acquirer ``name`` against its declarations, without using them.

    The one check behind :func:`get_acquirer`, ``batchbald acquire --param`` and the experiment
    configs' ``params`` tables.

    Args:
        name: a registered acquirer name.
        params: hyperparameter name → value (e.g. from a TOML table: dtypes as strings).

    Returns:
        The given parameters converted to their declared types (ints for int parameters,
        floats for float ones, ``"float32"``/``"float64"`` for dtypes); defaults not added.

    Raises:
        UnknownNameError: ``name`` is not registered.
        ParameterError: an undeclared name or a bad value; its ``parameter`` attribute names it.

    >>> check_params("power_bald", {"coldness": 8})
    {'coldness': 8.0}
    """
    if not isinstance(params, Mapping):
        raise InvalidInputError(f"params must be a mapping; got {type(params).__name__}")
    return check_declared(_lookup(name).declared, params, name)
