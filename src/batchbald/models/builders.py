"""From a :class:`~batchbald.models.spec.ModelSpec` to a :class:`BayesianModule`.

Networks are built fresh (weights drawn from the caller's generator), the spec's weights file is
loaded into them, then the posterior is added: consistent MC dropout on the whole network, a
last-layer posterior over the frozen rest, or an ensemble of members.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import nn

from batchbald.errors import ConfigError, InvalidInputError, ModelError
from batchbald.models.base import BayesianModule
from batchbald.models.cnn import EMNISTBayesianCNN, MNISTBayesianCNN
from batchbald.models.dropout import _SEED_BOUND
from batchbald.models.ensemble import DeepEnsemble, member_generators
from batchbald.models.features import FeatureCache
from batchbald.models.generic import consistent_mc_dropout
from batchbald.models.init import init_weights
from batchbald.models.last_layer import DropoutHead, LaplaceHead, LastLayerModel, split_last_linear
from batchbald.models.mlp import EmbeddingsMLP
from batchbald.models.resnet import ResNet18
from batchbald.models.spec import ModelSpec
from batchbald.models.weights import load_weights

__all__ = ["build_from_spec", "check_spec", "import_factory"]

Shape = tuple[int, ...]


def import_factory(path: str) -> Callable[..., nn.Module]:
    """The callable named by ``"package.module:function"``.

    Raises:
        ConfigError: the module cannot be imported or has no such attribute.
    """
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"model.factory {path!r}: cannot import {module_name!r}: {error}"
        ) from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigError(f"model.factory {path!r}: {module_name!r} has no callable {attribute!r}")
    return factory


def _factory_network(
    spec: ModelSpec, num_classes: int, generator: torch.Generator | None
) -> nn.Module:
    """Call the user's factory with torch's global RNG seeded from ``generator`` and restored."""
    factory = import_factory(spec.factory)
    seed = int(torch.randint(_SEED_BOUND, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = factory(num_classes, **dict(spec.options))
    if not isinstance(network, nn.Module):
        raise ModelError(
            f"model.factory {spec.factory!r} must return an nn.Module; got {type(network).__name__}"
        )
    return network


def _mlp_network(spec: ModelSpec, num_classes: int, shape: Shape, generator) -> nn.Module:
    widths = [math.prod(shape)] + [spec.hidden] * spec.depth
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    network = nn.Sequential(*layers, nn.Linear(spec.hidden, num_classes))
    return init_weights(network, generator) if generator is not None else network


def _network(kind: str, spec: ModelSpec, num_classes: int, shape: Shape, generator) -> nn.Module:
    """A plain network ``[B, *shape] -> [B, C]`` of ``kind``, with the spec's weights loaded."""
    if kind == "resnet18":
        network = ResNet18(num_classes, in_channels=int(shape[0]), generator=generator)
    elif kind == "module":
        network = _factory_network(spec, num_classes, generator)
    else:
        network = _mlp_network(spec, num_classes, shape, generator)
    if spec.weights:
        load_weights(network, spec.weights, skip=spec.skip_weights)
    return network


def _posterior(network: nn.Module, spec: ModelSpec, cache: FeatureCache | None) -> BayesianModule:
    if spec.posterior == "mc_dropout":
        return consistent_mc_dropout(network, head_dropout=spec.head_dropout)
    backbone, linear = split_last_linear(network)
    if spec.posterior == "last_layer_dropout":
        head: nn.Module = DropoutHead(linear, spec.p)
    else:
        head = LaplaceHead(linear, spec.prior_precision)
    return LastLayerModel(backbone, head, cache)


def build_from_spec(
    spec: ModelSpec,
    num_classes: int,
    input_shape: Shape,
    *,
    generator: torch.Generator | None = None,
    cache: FeatureCache | None = None,
) -> BayesianModule:
    """A freshly built (and, with ``spec.weights``, loaded) Bayesian model.

    Args:
        spec: the model kind and options.
        num_classes: C.
        input_shape: one input's shape (``[1, 28, 28]``, ``[3, 32, 32]``, ``[D]``).
        generator: weight-initialisation source (an ensemble's members get generators of
            their own from one draw, :func:`~batchbald.models.ensemble.member_generators`).
        cache: feature cache of last-layer posteriors (share one across loop steps).

    Raises:
        ConfigError, ModelError, WeightsError: see :class:`ModelSpec` and the builders.
    """
    if spec.kind in ("mnist_cnn", "emnist_cnn"):
        cls = MNISTBayesianCNN if spec.kind == "mnist_cnn" else EMNISTBayesianCNN
        model: BayesianModule = cls(num_classes, p=spec.p, generator=generator)
        if spec.weights:
            load_weights(model, spec.weights, skip=spec.skip_weights)
        return model
    if spec.kind == "embeddings_mlp":
        model = EmbeddingsMLP(int(input_shape[0]), num_classes, hidden=spec.hidden,
                              depth=spec.depth, p=spec.p, generator=generator)  # fmt: skip
        return load_weights(model, spec.weights, skip=spec.skip_weights) if spec.weights else model
    if spec.kind == "ensemble":
        members = [_network(spec.member, spec, num_classes, input_shape, member)
                   for member in member_generators(generator, spec.members)]  # fmt: skip
        return DeepEnsemble(members)
    return _posterior(_network(spec.kind, spec, num_classes, input_shape, generator), spec, cache)


def check_spec(spec: ModelSpec, num_classes: int, input_shape: Shape, *, k: int) -> None:
    """Build ``spec`` once and score two zero inputs: the errors a first training would hit.

    Catches weights that do not fit, a module without dropout, outputs that are not
    ``[B, C]`` with C = ``num_classes``, inputs the network cannot take, and ``k`` above an
    ensemble's members, before any work is done (campaigns call it at ``init``).

    Raises:
        ConfigError, ModelError, WeightsError: the message names what is wrong.
    """
    from batchbald.models.predict import predict_log_probs

    if spec.kind == "ensemble" and k > spec.members:
        raise ConfigError(
            f"k must be ≤ model.members = {spec.members} for an ensemble (its members are the "
            f"K posterior samples); got k = {k}"
        )
    model = build_from_spec(
        spec, num_classes, input_shape, generator=torch.Generator().manual_seed(0)
    )
    try:
        log_probs = predict_log_probs(model, torch.zeros(2, *input_shape), 2, batch_size=2)
    except (RuntimeError, InvalidInputError) as error:  # shape mismatches inside the network
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(
            f"model {spec.kind!r} cannot take inputs of shape {tuple(input_shape)}: {first}"
        ) from None
    if log_probs.shape[-1] != num_classes:
        raise ModelError(
            f"model {spec.kind!r} must output one score per class (C = {num_classes}); "
            f"got {log_probs.shape[-1]}"
        )
