"""Consistent MC dropout for any ``nn.Module``: one call, K masks shared by every pool point.

:func:`consistent_mc_dropout` copies a user's network and replaces every ``nn.Dropout`` (one
draw per element) and ``nn.Dropout1d/2d/3d`` (one draw per channel) with the package's
consistent dropout layers (:mod:`batchbald.models.dropout`), optionally adding dropout before the
last ``nn.Linear``. The result is a :class:`~batchbald.models.BayesianModule`:
``forward(x, k) -> log_probs_B_K_C``, scored by :func:`~batchbald.models.predict_log_probs` with
the K masks drawn once from an explicit generator (BatchBALD §4 needs the same K posterior
samples for every pool point).

Deterministic prefix: the inputs enter the network once per input (``[B, ...]``); the first
dropout layer that runs repeats its input K times (``[B·K, ...]``, sample index fastest), so
everything before it runs once per input, not K times. This is exact for networks whose
activations flow in a chain up to that layer; a network that reuses an earlier activation after
the first dropout (a residual connection around it) would see a shape mismatch, so the first
eval-mode call checks the shared prefix against the plain K-fold repetition on two inputs and
falls back to repeating the inputs when they differ (``model.share_prefix`` says which runs).

Not replaced: functional dropout (``F.dropout`` in a ``forward``, the attention-weight dropout
inside ``nn.MultiheadAttention``), which is off in eval mode, so scoring is deterministic in it.
``nn.AlphaDropout`` and ``nn.FeatureAlphaDropout`` are refused (their masks are not ``{0, s}``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import ModelError
from batchbald.models.base import BayesianModule, check_k, repeat_samples
from batchbald.models.dropout import ConsistentMCDropout, ConsistentMCDropout2d, _ConsistentDropout

__all__ = ["MCDropoutModule", "consistent_mc_dropout", "log_probs_from_outputs"]

_CHANNEL_DROPOUTS = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_REFUSED = (nn.AlphaDropout, nn.FeatureAlphaDropout)


@dataclass
class _CallState:
    """What the patched layers need from the current forward call (shared by all of them)."""

    k: int = 1
    generator: torch.Generator | None = None
    pending: bool = False  # the first dropout layer still has to repeat its input K times


class _PatchedMixin:
    """``forward(x)`` of an ``nn.Dropout*`` drop-in, taking K and the generator from the call."""

    state: _CallState

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        state = self.state
        if state.pending:
            x, state.pending = repeat_samples(x, state.k), False
        return _ConsistentDropout.forward(self, x, state.k, generator=state.generator)  # type: ignore[arg-type]


class PatchedDropout(_PatchedMixin, ConsistentMCDropout):
    """Element-wise consistent dropout standing in for ``nn.Dropout``."""


class PatchedChannelDropout(_PatchedMixin, ConsistentMCDropout2d):
    """Channel consistent dropout standing in for ``nn.Dropout1d/2d/3d``."""


class _HeadLinear(nn.Linear):
    """The last ``nn.Linear`` with dropout on its input; same parameters, same state-dict keys."""

    def __init__(self, linear: nn.Linear, dropout: PatchedDropout) -> None:
        nn.Module.__init__(self)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.dropout(x), self.weight, self.bias)


def _patch(module: nn.Module, state: _CallState) -> int:
    """Replace the dropout children of ``module`` recursively; returns how many were replaced."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, _REFUSED):
            raise ModelError(
                f"{type(child).__name__} at {name!r} is not supported by consistent MC dropout "
                "(its masks are not 0 or a constant); replace it with nn.Dropout"
            )
        if isinstance(child, (nn.Dropout, *_CHANNEL_DROPOUTS)):
            kind = PatchedChannelDropout if isinstance(child, _CHANNEL_DROPOUTS) else PatchedDropout
            layer = kind(child.p)
            layer.state = state
            setattr(module, name, layer)
            count += 1
        else:
            count += _patch(child, state)
    return count


def _last_linear(module: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """(parent, attribute name, layer) of the last registered ``nn.Linear``."""
    found = None
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                found = (parent, name, child)
    if found is None:
        raise ModelError(
            "head_dropout needs an nn.Linear layer to put dropout before; the module has none"
        )
    return found


def _add_head_dropout(net: nn.Module, p: float, state: _CallState) -> int:
    """Replace the last ``nn.Linear`` with one that drops its input; returns 1."""
    parent, name, linear = _last_linear(net)
    dropout = PatchedDropout(p)
    dropout.state = state
    setattr(parent, name, _HeadLinear(linear, dropout))
    return 1


def log_probs_from_outputs(outputs: object, batch: int, k: int) -> torch.Tensor:
    """Module outputs ``[B·K, C]`` (logits or log-probabilities) -> ``log_probs_B_K_C``.

    ``log_softmax`` is applied either way: it leaves log-probabilities unchanged.

    Raises:
        ModelError: ``outputs`` is not a ``[B·K, C]`` float tensor.
    """
    expected = batch * k
    if (
        not isinstance(outputs, torch.Tensor)
        or outputs.dim() != 2
        or outputs.shape[0] != expected
        or not outputs.is_floating_point()
    ):
        got = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
        raise ModelError(
            f"the model's output must be float [B, C] logits or log-probabilities ({expected} "
            f"rows here: {batch} inputs × {k} samples); got {got}. Wrap the network so that "
            "forward returns one [B, C] tensor"
        )
    return F.log_softmax(outputs, dim=-1).view(batch, k, -1)


@contextmanager
def _mha_fastpath_off() -> Iterator[None]:
    """Transformer layers' fused eval path skips dropout modules; keep the module path."""
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


class MCDropoutModule(BayesianModule):
    """A user network with consistent MC dropout; build it with :func:`consistent_mc_dropout`.

    Attributes:
        net: the patched copy of the user's network (its state-dict keys are unchanged).
        share_prefix: run the layers before the first dropout once per input (see module doc).
    """

    def __init__(self, net: nn.Module, state: _CallState, *, share_prefix: bool = True) -> None:
        super().__init__()
        self.net, self._state = net, state
        self.share_prefix = share_prefix
        self._prefix_checked = not share_prefix

    def _run(self, inputs: torch.Tensor, k: int, generator, *, share: bool) -> torch.Tensor:
        state = self._state
        state.k, state.generator, state.pending = k, generator, share
        with _mha_fastpath_off():
            outputs = self.net(inputs if share else repeat_samples(inputs, k))
        if state.pending:  # no dropout layer ran: the outputs are one row per input
            state.pending = False
            outputs = repeat_samples(outputs, k) if isinstance(outputs, torch.Tensor) else outputs
        return log_probs_from_outputs(outputs, inputs.shape[0], k)

    def forward(
        self, inputs: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``log_probs_B_K_C`` of K dropout samples; ``inputs`` ``[B, ...]`` on the net's device."""
        k = check_k(k)
        if not self._prefix_checked and not self.training and inputs.shape[0] >= 2:
            self._check_prefix(inputs[:2], k, generator)
        return self._run(inputs, k, generator, share=self.share_prefix)

    def _check_prefix(self, inputs: torch.Tensor, k: int, generator) -> None:
        """Compare the shared prefix with plain repetition once (eval mode: masks are fixed)."""
        self._prefix_checked = True
        with torch.no_grad():
            plain = self._run(inputs, k, generator, share=False)
            try:
                shared = self._run(inputs, k, generator, share=True)
                same = torch.allclose(shared, plain, rtol=1e-4, atol=1e-5)
            except RuntimeError:
                same = False
        self.share_prefix = same

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """The last ``nn.Linear``'s input ``[B, D]`` with dropout off (one row per input)."""
        captured: list[torch.Tensor] = []
        _, _, last = _last_linear(self.net)
        handle = last.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
        layers = self.dropout_layers()
        enabled = [layer.enabled for layer in layers]
        try:
            for layer in layers:
                layer.enabled = False
            self._run(inputs, 1, None, share=False)
        finally:
            handle.remove()
            for layer, was in zip(layers, enabled, strict=True):
                layer.enabled = was
        return captured[-1].flatten(1)


def consistent_mc_dropout(
    module: nn.Module, *, head_dropout: float | None = None, share_prefix: bool = True
) -> MCDropoutModule:
    """Turn any network into a :class:`~batchbald.models.BayesianModule` with consistent masks.

    Args:
        module: maps inputs ``[B, ...]`` (batch axis first) to logits or log-probabilities
            ``[B, C]``. Copied; the argument is left unchanged.
        head_dropout: when given, also put element-wise dropout with this probability before
            the last registered ``nn.Linear`` (e.g. a ResNet's ``fc``).
        share_prefix: run the layers before the first dropout once per input.

    Returns:
        A :class:`MCDropoutModule` whose state-dict keys are ``"net." + the module's keys``.

    Raises:
        ModelError: the module has no dropout layer and ``head_dropout`` is None, or holds an
            unsupported dropout kind.

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
        >>> model = consistent_mc_dropout(net).eval()
        >>> model.prepare_masks(5, generator=torch.Generator().manual_seed(0))
        >>> model(torch.zeros(2, 4), 5).shape
        torch.Size([2, 5, 3])
    """
    if not isinstance(module, nn.Module):
        raise ModelError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    net, state = copy.deepcopy(module), _CallState()
    count = _patch(net, state)
    if head_dropout is not None:
        count += _add_head_dropout(net, head_dropout, state)
    if count == 0:
        raise ModelError(
            f"MC dropout needs dropout layers, and {type(module).__name__} has no nn.Dropout, "
            "nn.Dropout1d/2d/3d; pass head_dropout=0.5 (config: head_dropout = 0.5) to add "
            "dropout before the last linear layer"
        )
    return MCDropoutModule(net, state, share_prefix=share_prefix)
