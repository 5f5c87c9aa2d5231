"""Count the GEMM work of one BatchBALD call: rows × candidates of every conditional-entropy sum.

Run with either venv's python (old engine: joint_entropy.conditional_entropy_sums; new:
greedy.gains.conditional_entropy_sums); rows > 2,000 count as exact gains (M = 10,000 sampled
steps), the rest as bounds or exact-phase gains. Arguments: N K C b M.

    python docs/investigations/redesign_speed/count_work.py 10000 100 10 10 10000
"""

import collections
import importlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests/acquisition/fixtures"))
from greedy_cases import synthetic_log_probs

import batchbald
from batchbald.acquisition import batchbald as greedy

try:
    mod = importlib.import_module("batchbald.acquisition.greedy.gains")
except ImportError:
    mod = importlib.import_module("batchbald.acquisition.joint_entropy")
orig = mod.conditional_entropy_sums
work = collections.Counter()


def counting(posterior, weights, log_probs, chunk, *a, **k):
    work["exact" if posterior.shape[0] > 2000 else "bound"] += (
        posterior.shape[0] * log_probs.shape[0]
    )
    work["n_exact" if posterior.shape[0] > 2000 else "n_bound"] += log_probs.shape[0]
    return orig(posterior, weights, log_probs, chunk, *a, **k)


mod.conditional_entropy_sums = counting
torch.set_num_threads(1)
n, k, c, b, m = map(int, sys.argv[1:6])
lp = synthetic_log_probs(n, k, c)
t = time.perf_counter()
r = greedy(lp, b, num_samples=m, generator=torch.Generator().manual_seed(0))
print(
    batchbald.__file__.split("/")[2],
    f"{time.perf_counter() - t:.1f}s",
    dict(work),
    r.indices.tolist(),
)
