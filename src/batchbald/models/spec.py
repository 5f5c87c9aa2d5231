"""``ModelSpec``: which network and which posterior, as a ``[model]`` table of a config.

Examples (TOML)::

    model = "mnist_cnn"                                   # a name alone: defaults for the rest

    [model]
    kind = "resnet18"
    weights = "weights/resnet18.safetensors"              # local file; nothing is downloaded
    posterior = "last_layer_dropout"

    [model]
    kind = "module"
    factory = "my_pkg.models:make"                        # factory(num_classes, **options)
    head_dropout = 0.5

    [model]
    kind = "ensemble"
    members = 5
    member = "resnet18"

    [model]
    kind = "embeddings_mlp"
    hidden = 256
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from batchbald.errors import ConfigError

__all__ = ["MEMBER_KINDS", "POSTERIORS", "ModelSpec"]

POSTERIORS = ("mc_dropout", "last_layer_dropout", "last_layer_laplace")
MEMBER_KINDS = ("resnet18", "module", "mlp")


def _fail(name: str, message: str) -> ConfigError:
    return ConfigError(f"model.{name} {message}")


def _positive_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(name, f"must be an int ≥ {minimum}; got {value!r}")


def _probability(value: Any, name: str) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) < 1.0:
        raise _fail(name, f"must be a number in [0, 1); got {value!r}")


@dataclass(frozen=True)
class ModelSpec:
    """A model kind and its options; :func:`~batchbald.models.build_from_spec` builds it.

    Attributes:
        kind: a registered kind (``batchbald list``): "mnist_cnn", "emnist_cnn", "resnet18",
            "module", "embeddings_mlp", "ensemble".
        posterior: "mc_dropout" (consistent MC dropout on the whole network),
            "last_layer_dropout" or "last_layer_laplace" (frozen backbone, Bayesian last layer).
        weights: a local ``.safetensors`` or torch state-dict file loaded into the network
            (before the posterior is added); "" for a fresh initialisation.
        skip_weights: parameter-name prefixes not taken from ``weights`` (e.g. ``["fc"]``).
        factory: ``"package.module:function"`` for ``kind = "module"``; called as
            ``function(num_classes, **options)`` and must return an ``nn.Module`` mapping
            ``[B, ...]`` to ``[B, C]`` logits or log-probabilities.
        options: extra keyword arguments of ``factory``.
        p: dropout probability of the package's own dropout layers (paper CNNs, MLP, the
            last-layer dropout head).
        head_dropout: with ``posterior = "mc_dropout"``, add dropout with this probability
            before the last linear layer (needed for networks without dropout, e.g. ResNet-18).
        prior_precision: λ of the last-layer Laplace posterior.
        members: M ≥ 2 for ``kind = "ensemble"``.
        member: the members' kind: "resnet18", "module" (uses ``factory``) or "mlp".
        workers: threads that train an ensemble's members at once; 0: one per CPU core (at
            most M). Results do not depend on it (each member has its own generators).
        hidden, depth: hidden width and number of hidden layers of "embeddings_mlp" / "mlp".
    """

    kind: str
    posterior: str = "mc_dropout"
    weights: str = ""
    skip_weights: tuple[str, ...] = ()
    factory: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    p: float = 0.5
    head_dropout: float | None = None
    prior_precision: float = 1.0
    members: int = 0
    member: str = "resnet18"
    workers: int = 0
    hidden: int = 256
    depth: int = 1

    def __post_init__(self) -> None:
        from batchbald.models.registry import available_models

        if self.kind not in available_models():
            raise _fail(
                "kind", f"must be one of {', '.join(available_models())}; got {self.kind!r}"
            )
        if self.posterior not in POSTERIORS:
            raise _fail(
                "posterior", f"must be one of {', '.join(POSTERIORS)}; got {self.posterior!r}"
            )
        _probability(self.p, "p")
        if self.head_dropout is not None:
            _probability(self.head_dropout, "head_dropout")
        pp = self.prior_precision
        if (
            isinstance(pp, bool)
            or not isinstance(pp, (int, float))
            or not (math.isfinite(pp) and pp > 0)
        ):
            raise _fail("prior_precision", f"must be a finite number > 0; got {pp!r}")
        _positive_int(self.hidden, "hidden", 1)
        _positive_int(self.depth, "depth", 1)
        _positive_int(self.workers, "workers", 0)
        self._check_kind()
        object.__setattr__(self, "skip_weights", tuple(self.skip_weights))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def _check_kind(self) -> None:
        if self.kind == "ensemble":
            _positive_int(self.members, "members", 2)
            if self.member not in MEMBER_KINDS:
                raise _fail(
                    "member", f"must be one of {', '.join(MEMBER_KINDS)}; got {self.member!r}"
                )
            if self.posterior != "mc_dropout":
                raise _fail(
                    "posterior", "must be left out for an ensemble (its members are the samples)"
                )
        uses_factory = self.kind == "module" or (
            self.kind == "ensemble" and self.member == "module"
        )
        if uses_factory and (not isinstance(self.factory, str) or ":" not in self.factory):
            raise _fail(
                "factory", f"must look like 'package.module:function'; got {self.factory!r}"
            )
        if (
            self.kind in ("mnist_cnn", "emnist_cnn", "embeddings_mlp")
            and self.posterior != "mc_dropout"
        ):
            raise _fail(
                "posterior", f"must be 'mc_dropout' for {self.kind}; got {self.posterior!r}"
            )
        if not isinstance(self.weights, str):
            raise _fail("weights", f"must be a file path string; got {self.weights!r}")
        if self.weights and not Path(self.weights).is_file():
            raise _fail("weights", f"file {self.weights!r} does not exist (nothing is downloaded)")
        if uses_factory:
            from batchbald.models.builders import import_factory

            import_factory(self.factory)
