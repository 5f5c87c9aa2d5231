"""The active-learning loop and what it exchanges: settings, learners, oracles, generators.

- :class:`ActiveLearningLoop` runs train → evaluate → score → acquire → ask the oracle
  (:mod:`batchbald.loop.active_loop`, which also states how acquirers are called).
- :class:`LoopSettings` (batch size, K, stopping rule), :class:`StepRecord` (one step's record),
  :class:`Learner` / :class:`Fitted` (what the loop needs from a model family).
- Oracles (:mod:`batchbald.loop.oracle`): :class:`Oracle`, :class:`DatasetOracle`,
  :class:`NoisyOracle`, :class:`CallbackOracle`, :func:`check_labels`, :data:`CANNOT_LABEL`.
- Randomness: :class:`LoopGenerators` (one ``torch.Generator`` per consumer), :func:`derive_seed`.
"""

from batchbald.loop.active_loop import ActiveLearningLoop
from batchbald.loop.generators import LoopGenerators, derive_seed
from batchbald.loop.learner import Fitted, Learner
from batchbald.loop.oracle import (
    CANNOT_LABEL,
    CallbackOracle,
    DatasetOracle,
    NoisyOracle,
    Oracle,
    check_labels,
)
from batchbald.loop.records import StepRecord
from batchbald.loop.settings import LoopSettings

__all__ = [
    "CANNOT_LABEL",
    "ActiveLearningLoop",
    "CallbackOracle",
    "DatasetOracle",
    "Fitted",
    "Learner",
    "LoopGenerators",
    "LoopSettings",
    "NoisyOracle",
    "Oracle",
    "StepRecord",
    "check_labels",
    "derive_seed",
]
