"""The greedy loop shared by every greedy batch rule, lazily evaluated (Minoux 1978).

Step n adds the available candidate of largest gain (ties: lowest pool index). Lazy greedy
visits the candidates in order of upper bounds on their gains, scores them exactly in doubling
blocks, and stops once the best exact gain beats every remaining bound. Two kinds of bound are
used, and both are valid, so the picks are full greedy's (``lazy=False``) in both phases
(proofs: ``docs/greedy.md``):

* :class:`CarriedBounds`: values from earlier steps, valid only while every step is exact
  (submodularity); a sampled step estimates its gains from fresh draws, which earlier values
  do not bound, so sampled steps carry nothing.
* :class:`StepBounds`: bounds from this step's own configurations (Jensen's inequality over
  groups of configurations), supplied by the objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

from batchbald.acquisition.numerics import argmax_lowest_index
from batchbald.acquisition.result import AcquisitionResult

__all__ = ["TIE_TOLERANCE", "CarriedBounds", "Objective", "StepBounds", "run_greedy"]

#: Gains within this absolute distance are ties (broken by the lower pool index), which makes
#: picks independent of floating-point reduction order (chunking, memory budget). Bounds get the
#: same slack, so rounding can never hide a candidate from lazy greedy.
TIE_TOLERANCE = 1e-12
#: Candidates scored together in the first block of a lazy step; later blocks double in size,
#: up to MAX_BLOCK (bounded overshoot past the stopping point).
FIRST_BLOCK = 32
MAX_BLOCK = 256


@dataclass(frozen=True)
class CarriedBounds:
    """Upper bounds on every pool point's gain carried from one greedy step to the next.

    Attributes:
        values_N: float64 ``[N]``; meaningful only where ``valid``.
        valid: False once a step is sampled: its gains are estimates from fresh draws.
    """

    values_N: torch.Tensor
    valid: bool = True

    def for_step(self, exact: bool) -> CarriedBounds:
        """The bounds usable by a step (exact: these; sampled: none)."""
        return self if exact and self.valid else CarriedBounds(self.values_N, valid=False)

    def at(self, candidates: torch.Tensor) -> torch.Tensor:
        """The bounds of ``candidates`` (+inf where there are none)."""
        if self.valid:
            return self.values_N[candidates]
        return torch.full(candidates.shape, math.inf, dtype=torch.float64, device=candidates.device)


class StepBounds(Protocol):
    """Upper bounds on one step's gains from that step's configurations (lazy steps only)."""

    #: Whether the bounds also bound later steps' gains in the exact phase (may be carried).
    carried: bool

    def initial(self, candidates: torch.Tensor) -> torch.Tensor:
        """Bounds for every candidate, float64 ``[n]``."""

    def reorder(self, permutation: torch.Tensor) -> None:
        """The candidates were sorted by ``permutation``; keep any per-candidate state aligned."""

    def next_stage(self, start: int, order: torch.Tensor, upper: torch.Tensor, best: float):
        """A finer bound for the candidates from ``start`` on.

        ``(order, upper)`` of those still in play (sorted by their new bounds), or None when there
        is no further stage.
        """

    def prune(self, block: torch.Tensor, upper: torch.Tensor, best: float):
        """Tighter bounds for a block about to be scored: ``(kept, bounds of the block)``."""


class Objective(Protocol):
    """What :func:`run_greedy` maximises (see :mod:`batchbald.acquisition.greedy`)."""

    num_points: int

    def first_gains(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Gains of every pool point for the empty batch, and their first carried bounds."""

    def advance(self, picks: list[int], step: int) -> bool:
        """Configurations of the batch ``picks`` for step ``step``; True when exact."""

    def batch_score(self, picks: list[int]) -> float:
        """a(A) for the current batch under the current configurations (0 when empty)."""

    def step_bounds(self, candidates: torch.Tensor) -> StepBounds | None:
        """This step's bounds, or None when they would cost about as much as the gains."""

    def gains(self, block: torch.Tensor, best: float, lazy: bool):
        """Exact gains of a block: ``(gains, candidates they belong to, carried values)``.

        Lazy objectives may skip candidates that provably cannot beat ``best``; the carried
        values (one per block candidate) bound the candidates' gains at later exact steps.
        """


@dataclass
class _Best:
    """The best candidate so far; ties within TIE_TOLERANCE go to the lower index."""

    gain: float = -math.inf
    index: int = -1

    def offer(self, gains: torch.Tensor, indices: torch.Tensor) -> None:
        gain, index = argmax_lowest_index(gains, indices, TIE_TOLERANCE)
        if gain > self.gain + TIE_TOLERANCE or (
            gain >= self.gain - TIE_TOLERANCE and index < self.index
        ):
            self.gain, self.index = gain, index


def run_greedy(
    objective: Objective, batch_size: int, lazy: bool, *, first_block: int = FIRST_BLOCK
) -> AcquisitionResult:
    """Greedy maximisation of ``objective`` over ``batch_size`` picks.

    Args:
        objective: what to maximise (BatchBALD's or the evaluation rules').
        batch_size: b, 1 ≤ b ≤ N.
        lazy: visit candidates in order of their bounds and stop once none can win; the picks
            are the same either way.
        first_block: candidates scored together in the first block of a lazy step (blocks then
            double up to MAX_BLOCK); only the amount of work depends on it.

    Returns:
        :class:`AcquisitionResult`: indices in pick order; ``scores[i]`` the estimated a(A) of
        the first i + 1 picks (float64).
    """
    gains_N, first_bounds_N = objective.first_gains()
    positions = torch.arange(objective.num_points, device=gains_N.device)
    gain, pick = argmax_lowest_index(gains_N, positions, TIE_TOLERANCE)
    carried = CarriedBounds(first_bounds_N)
    available_N = torch.ones(objective.num_points, dtype=torch.bool, device=gains_N.device)
    picks, scores = [pick], [gain]
    available_N[pick] = False
    for step in range(1, batch_size):
        carried = carried.for_step(objective.advance(picks, step))
        block = first_block if lazy else objective.num_points
        gain, pick, carried = _best_candidate(objective, carried, available_N, block)
        scores.append(objective.batch_score(picks) + gain)
        picks.append(pick)
        available_N[pick] = False
    return AcquisitionResult(
        indices=torch.tensor(picks, dtype=torch.int64, device=gains_N.device),
        scores=torch.tensor(scores, dtype=torch.float64, device=gains_N.device),
    )


def _best_candidate(
    objective: Objective, carried: CarriedBounds, available_N: torch.Tensor, block: int
) -> tuple[float, int, CarriedBounds]:
    """This step's pick, its gain and the bounds for the next step (lazy: ``block`` < N)."""
    lazy = block < objective.num_points
    step = _Step(objective, carried, lazy)
    order, upper = step.ranked(torch.nonzero(available_N).squeeze(1))
    start, scored = 0, False
    while start < len(order):
        if lazy and float(upper[start]) + TIE_TOLERANCE < step.best.gain:
            break  # no remaining candidate can beat the best gain
        staged = step.next_stage(start, order, upper) if scored else None
        if staged is not None:
            (order, upper), start, scored = staged, 0, False
            continue
        stop = start + block
        scored = step.score(order[start:stop], upper[start:stop])
        start, block = stop, min(2 * block, MAX_BLOCK)
    return step.best.gain, step.best.index, step.carried_out()


class _Step:
    """The state of one lazy greedy step: bounds, the best candidate, the bounds to carry."""

    def __init__(self, objective: Objective, carried: CarriedBounds, lazy: bool) -> None:
        self.objective, self.carried, self.lazy = objective, carried, lazy
        self.bounds: StepBounds | None = None
        self.next_N = carried.values_N.clone() if carried.valid else None
        self.best = _Best()

    def ranked(self, candidates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The candidates by decreasing bound (ties by index) and their bounds."""
        upper = self.carried.at(candidates)
        if self.lazy:
            self.bounds = self.objective.step_bounds(candidates)
        if self.bounds is not None:
            upper = torch.minimum(upper, self.bounds.initial(candidates))
            self._carry(candidates, upper)
        # A stable sort of an index-ordered list: ties stay in index order.
        ranked = torch.sort(upper, descending=True, stable=True)
        if self.bounds is not None:
            self.bounds.reorder(ranked.indices)
        return candidates[ranked.indices], ranked.values

    def next_stage(self, start: int, order: torch.Tensor, upper: torch.Tensor):
        """The step bounds' next refinement of the candidates from ``start`` on, if any."""
        if self.bounds is None:
            return None
        return self.bounds.next_stage(start, order, upper, self.best.gain)

    def score(self, block: torch.Tensor, upper: torch.Tensor) -> bool:
        """Tighten the block's bounds, score the candidates that can still win; True if any."""
        if self.bounds is not None and self.best.gain > -math.inf:
            block, upper = self.bounds.prune(block, upper, self.best.gain)
            self._carry(block, upper)
            block = block[upper + TIE_TOLERANCE >= self.best.gain]
            if not len(block):
                return False
        gains, kept, carry = self.objective.gains(block, self.best.gain, self.lazy)
        if self.next_N is not None:
            self.next_N[block] = carry
        if len(kept):
            self.best.offer(gains, kept)
        return True

    def _carry(self, candidates: torch.Tensor, upper: torch.Tensor) -> None:
        """Record step bounds that also bound later exact steps' gains."""
        if self.bounds is not None and self.bounds.carried and self.next_N is not None:
            self.next_N[candidates] = upper

    def carried_out(self) -> CarriedBounds:
        """The bounds for the next step."""
        return CarriedBounds(self.next_N) if self.next_N is not None else self.carried
