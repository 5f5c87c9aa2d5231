"""Scale: log-probability stores larger than memory, streaming acquisition, scoring on Ray.

Nothing in ``acquisition/``, ``models/`` or ``training/`` imports this package; it calls their
public functions. Ray is optional (``pip install 'batchbald[ray]'``) and imported lazily.
"""

from batchbald.scale.greedy import StreamedBatch, streamed_batchbald
from batchbald.scale.greedy_pair import streamed_batch_evaluation
from batchbald.scale.store import LogProbStore, open_store
from batchbald.scale.streaming import stream_scores, streamed_stochastic, streamed_top_k
from batchbald.scale.writer import StoreWriter

__all__ = [
    "LogProbStore",
    "StoreWriter",
    "StreamedBatch",
    "open_store",
    "stream_scores",
    "streamed_batch_evaluation",
    "streamed_batchbald",
    "streamed_stochastic",
    "streamed_top_k",
]
