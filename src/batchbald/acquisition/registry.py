"""Acquirers by name: the one table the loop, the experiment configs and the CLI read.

An :class:`Acquirer` binds an acquisition function to its hyperparameters and declares what
inputs it needs, so the loop never checks types:

    acquirer = get_acquirer("batchbald", num_samples=10_000)
    result = acquirer(log_probs_N_K_C, batch_size=10, generator=generator)

Every registered function has the signature
``fn(log_probs_N_K_C, batch_size, *, generator, [eval_log_probs_N_K_C,] **params)`` and returns an
:class:`~batchbald.acquisition.result.AcquisitionResult`. A new acquirer is one ``register`` call.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import torch

from batchbald.acquisition.result import AcquisitionResult
from batchbald.errors import InvalidInputError, UnknownNameError

__all__ = [
    "Acquirer",
    "available_acquirers",
    "get_acquirer",
    "placeholder_log_probs",
    "register",
]

AcquireFn = Callable[..., AcquisitionResult]


@dataclass(frozen=True)
class Acquirer:
    """A named acquisition rule with bound hyperparameters.

    Attributes:
        name: registry name.
        fn: the acquisition function.
        description: one line for ``batchbald list`` and ``--help``.
        needs_eval_model: True when the rule also needs ``eval_log_probs_N_K_C`` from an
            evaluation model (EvaluationBALD family); the loop then trains one.
        needs_predictions: False when the rule ignores the model's predictions (random): the
            loop then skips scoring the pool and passes the pool size N (an int) instead.
        params: keyword hyperparameters passed to ``fn`` (e.g. ``num_samples``, ``coldness``).
    """

    name: str
    fn: AcquireFn
    description: str
    needs_eval_model: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    needs_predictions: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __call__(
        self,
        log_probs_N_K_C: Any,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        eval_log_probs_N_K_C: Any = None,
    ) -> AcquisitionResult:
        """Select ``batch_size`` pool points. See the registered function for shapes."""
        kwargs = dict(self.params)
        if self.needs_eval_model:
            if eval_log_probs_N_K_C is None:
                raise InvalidInputError(
                    f"acquirer {self.name!r} needs eval_log_probs_N_K_C (log-probabilities "
                    "of the evaluation model on the same pool); got None"
                )
            kwargs["eval_log_probs_N_K_C"] = eval_log_probs_N_K_C
        return self.fn(log_probs_N_K_C, batch_size, generator=generator, **kwargs)

    def with_params(self, **params: Any) -> Acquirer:
        """A copy with some hyperparameters replaced; unknown names are an error."""
        allowed = tunable_params(self.fn)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise InvalidInputError(
                f"acquirer {self.name!r} has no parameter(s) {unknown}; "
                f"valid parameters: {sorted(allowed) or 'none'}"
            )
        return replace(self, params={**self.params, **params})


def tunable_params(fn: AcquireFn) -> dict[str, Any]:
    """Keyword-only hyperparameters of ``fn`` with their defaults (not generator/eval inputs)."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(fn).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        and name not in {"generator", "eval_log_probs_N_K_C"}
    }


_REGISTRY: dict[str, Acquirer] = {}


def placeholder_log_probs(pool_size: int) -> torch.Tensor:
    """Uniform log-probabilities ``[N, 1, 2]``: what a caller passes to an acquirer with
    ``needs_predictions=False`` instead of scoring the pool (only N is read)."""
    return torch.full((pool_size, 1, 2), -math.log(2.0))


def register(
    name: str,
    fn: AcquireFn,
    *,
    description: str,
    needs_eval_model: bool = False,
    needs_predictions: bool = True,
    **params: Any,
) -> Acquirer:
    """Add an acquirer to the registry (names are unique) and return it."""
    if name in _REGISTRY:
        raise ValueError(f"acquirer {name!r} is already registered")
    acquirer = Acquirer(
        name, fn, description, needs_eval_model, needs_predictions=needs_predictions
    ).with_params(**params)
    _REGISTRY[name] = acquirer
    return acquirer


def available_acquirers() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def get_acquirer(name: str, **params: Any) -> Acquirer:
    """The acquirer called ``name``, with ``params`` overriding its defaults.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the valid names).
        InvalidInputError: a parameter name the acquirer does not take.
    """
    try:
        acquirer = _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown acquirer {name!r}; valid names: {', '.join(available_acquirers())}"
        ) from None
    return acquirer.with_params(**params) if params else acquirer
