"""Deep ensembles (Lakshminarayanan et al., NeurIPS 2017) as K posterior samples.

The M members' parameters are stacked (``torch.func.stack_module_state``) and every forward
runs all members at once with ``torch.func.vmap`` over one template network: one batched call
instead of M. Each member has its own initialisation, from a generator of its own
(:func:`member_generators`); the learners train each member on its own (its own data order,
:mod:`batchbald.training.ensemble`) and stack the results again. The K samples of
``forward(x, k)`` are the first K members, the same K for every input, so BatchBALD's joint
entropies are valid. Dropout inside members is kept off (the randomness of an ensemble is its
members); batch norm works (its running statistics are stacked too).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from batchbald.errors import ModelError
from batchbald.models.base import BayesianModule, check_k
from batchbald.models.generic import log_probs_from_outputs

__all__ = ["DeepEnsemble", "EnsembleMember", "build_ensemble", "member_generators"]

_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def _key(name: str) -> str:
    return name.replace(".", "__")


class DeepEnsemble(BayesianModule):
    """M member networks (each ``[B, ...] -> [B, C]`` logits) evaluated together.

    Args:
        members: at least two networks of identical architecture, already initialised.

    ``forward(x, k)`` returns ``[B, K, C]``: members ``0..K-1`` in eval mode (K ≤ M), all M
    members in training mode (the loss then trains every member).
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ModelError(f"an ensemble needs at least 2 members; got {len(members)}")
        try:
            params, buffers = stack_module_state(list(members))
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"ensemble members must share one architecture: {error}") from None
        self.num_members = len(members)
        # Not a registered submodule: its meta-device parameters are only a call template.
        self.__dict__["template"] = copy.deepcopy(members[0]).to("meta")
        self._names = list(params), list(buffers)
        self.stacked = nn.ParameterDict({_key(n): nn.Parameter(v) for n, v in params.items()})
        for name, value in buffers.items():
            self.register_buffer(f"stacked_buffer__{_key(name)}", value)

    def train(self, mode: bool = True) -> DeepEnsemble:
        """Set the mode; dropout layers inside members stay off."""
        super().train(mode)
        self.template.train(mode)
        for module in self.template.modules():
            if isinstance(module, _DROPOUTS):
                module.eval()
        return self

    def _state(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        names, buffer_names = self._names
        params = {n: self.stacked[_key(n)] for n in names}
        buffers = {n: getattr(self, f"stacked_buffer__{_key(n)}") for n in buffer_names}
        return params, buffers

    def _members(self, fn: Callable, inputs: torch.Tensor, count: int) -> torch.Tensor:
        params, buffers = self._state()
        if count < self.num_members:
            params = {n: v[:count] for n, v in params.items()}
            buffers = {n: v[:count] for n, v in buffers.items()}
        return vmap(fn, in_dims=(0, 0, None), randomness="error")(params, buffers, inputs)

    def forward(
        self, inputs: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``log_probs_B_K_C``; ``generator`` is unused (members are deterministic)."""
        k = check_k(k)
        if not self.training and k > self.num_members:
            raise ModelError(
                f"an ensemble of {self.num_members} members gives at most K = "
                f"{self.num_members} samples; got k = {k}. Set scoring k ≤ members"
            )
        count = self.num_members if self.training else k

        def one(params, buffers, x):
            return functional_call(self.template, (params, buffers), (x,))

        outputs_M_B_C = self._members(one, inputs, count)
        # [M, B, C] -> [B·M, C] (sample index fastest), checked like any user network's output.
        flat = outputs_M_B_C.transpose(0, 1).reshape(-1, *outputs_M_B_C.shape[2:])
        return log_probs_from_outputs(flat, inputs.shape[0], count)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """Every member's last-linear input, concatenated: ``[B, M·D]`` (dropout off)."""
        captured: list[torch.Tensor] = []
        last = [m for m in self.template.modules() if isinstance(m, nn.Linear)]
        if not last:
            raise ModelError("embed needs a final nn.Linear in the ensemble members")

        def one(params, buffers, x):
            handle = last[-1].register_forward_pre_hook(lambda _m, a: captured.append(a[0]))
            try:
                functional_call(self.template, (params, buffers), (x,))
            finally:
                handle.remove()
            return captured.pop().flatten(1)

        features_M_B_D = self._members(one, inputs, self.num_members)
        return features_M_B_D.transpose(0, 1).reshape(inputs.shape[0], -1)

    def member_networks(self) -> list[nn.Module]:
        """Standalone copies of the M member networks (CPU, their current weights and buffers).

        ``DeepEnsemble(ensemble.member_networks())`` is an equal ensemble.
        """
        params, buffers = self._state()
        networks = []
        for index in range(self.num_members):
            network = copy.deepcopy(self.template).to_empty(device="cpu")
            state = {n: v[index].detach().cpu() for n, v in {**params, **buffers}.items()}
            network.load_state_dict(state)
            networks.append(network)
        return networks


class EnsembleMember(BayesianModule):
    """One member network as a :class:`BayesianModule` with dropout off, for training it alone.

    ``forward(x, k)`` returns the network's log-probabilities repeated K times (a member is
    deterministic); ``network`` is the plain module, to stack again into a
    :class:`DeepEnsemble`.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def train(self, mode: bool = True) -> EnsembleMember:
        """Set the mode; dropout layers inside the network stay off."""
        super().train(mode)
        for module in self.network.modules():
            if isinstance(module, _DROPOUTS):
                module.eval()
        return self

    def forward(
        self, inputs: torch.Tensor, k: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``log_probs_B_K_C`` (K equal copies); ``generator`` is unused."""
        k = check_k(k)
        log_probs_B_1_C = log_probs_from_outputs(self.network(inputs), inputs.shape[0], 1)
        return log_probs_B_1_C.expand(-1, k, -1)


def member_generators(generator: torch.Generator | None, count: int) -> list[torch.Generator]:
    """``count`` independent generators, one per member, from one draw of ``generator``.

    Member ``m``'s generator is seeded by SHA-256 of ``"{draw}/member/{m}"``, so it does not
    depend on ``count`` or on the order members are used in, and ``generator`` advances by
    one draw whatever the ensemble's size.

    >>> a = member_generators(torch.Generator().manual_seed(0), 3)
    >>> b = member_generators(torch.Generator().manual_seed(0), 5)
    >>> [g.initial_seed() for g in a] == [g.initial_seed() for g in b[:3]]
    True
    """
    draw = int(torch.randint(2**62, (1,), generator=generator))
    seeds = [
        int.from_bytes(hashlib.sha256(f"{draw}/member/{m}".encode()).digest()[:8], "little") >> 1
        for m in range(count)
    ]
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def build_ensemble(
    factory: Callable[[torch.Generator | None], nn.Module],
    members: int,
    *,
    generator: torch.Generator | None = None,
) -> DeepEnsemble:
    """An ensemble of ``members`` networks, member ``m`` built as ``factory(generators[m])``.

    Args:
        factory: builds one freshly initialised member from the generator it is given.
        members: M ≥ 2.
        generator: one draw from it seeds the members' own generators
            (:func:`member_generators`).
    """
    if isinstance(members, bool) or not isinstance(members, int) or members < 2:
        raise ModelError(f"members must be an int ≥ 2; got {members!r}")
    return DeepEnsemble([factory(g) for g in member_generators(generator, members)])
