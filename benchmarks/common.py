"""Shared helpers of the maintained benchmarks in this folder (run them from the repository root).

- :data:`CASES` and :func:`synthetic_log_probs`: the deterministic synthetic MC-dropout pools that
  ``acquisition.py``, ``method_costs.py`` and ``memory_check.py`` time (sizes from issue 2);
- :func:`digest`: a short hash proving two processes built the same pool;
- :func:`reset_peak_rss` / :func:`status_kib`: a call's own peak memory (Linux ``clear_refs``);
- :func:`joint_mutual_information`: I(y_1..y_b; ω) of any batch, to compare methods' batches;
- :func:`machine_facts`, :func:`write_json`: what every JSON result records, written atomically.

Only the package's public API is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

import torch

from batchbald.acquisition import conditional_entropy
from batchbald.acquisition import joint_entropy as je

MIB = 2**20
GIB = 2**30


@dataclass(frozen=True)
class Case:
    """One benchmark configuration (sizes from issue 2)."""

    key: str
    title: str
    method: str  # "batchbald" or "bald"
    N: int
    K: int
    C: int
    b: int
    M: int = 10_000
    peers: tuple[str, ...] = ()
    full_greedy: bool = False  # also time ours with lazy=False
    baal_small_M: int = 0  # also run baal's BatchBALD at this M (0: no)


CASES = {
    "1": Case("1", "BatchBALD, MNIST-like subset", "batchbald", 10_000, 100, 10, 10,
              peers=("batchbald_redux", "baal"), full_greedy=True, baal_small_M=1_000),
    "2": Case("2", "BatchBALD, full MNIST-size pool", "batchbald", 60_000, 100, 10, 10),
    "3": Case("3", "BatchBALD, EMNIST-like (47 classes)", "batchbald", 10_000, 10, 47, 10,
              peers=("batchbald_redux", "baal"), full_greedy=True),
    "4": Case("4", "BALD top-10, MNIST-size pool", "bald", 60_000, 100, 10, 10,
              peers=("baal", "batchbald_redux")),
    "5": Case("5", "BatchBALD b=100, large pool", "batchbald", 100_000, 20, 10, 100),
}  # fmt: skip


def quick(case: Case) -> Case:
    """The same case at smoke-test sizes (seconds, peers included)."""
    return dataclasses.replace(
        case,
        N=min(case.N, 1_500),
        K=min(case.K, 20),
        M=1_000,
        b=min(case.b, 20),
        baal_small_M=200 if case.baal_small_M else 0,
    )


def synthetic_log_probs(
    case: Case, *, seed: int = 0, copies: int = 3, features: int = 64, chunk: int = 4096
) -> torch.Tensor:
    """Deterministic MC-dropout-like log-probabilities ``[N, K, C]`` (float32) with duplicates.

    A "network" with a linear head on D features: every base point has features f_b ([D]) and a
    sharpness s_b (log-normal, so some points are confident and some ambiguous; capped at 8 so
    every log-probability stays above about -80: float32 ``exp`` never underflows to 0, which
    batchbald_redux would turn into NaN scores via 0 · log 0). Posterior sample
    k drops features with a shared mask (dropout p = 0.5, damped by 0.4 so the MI is MNIST-like)
    and adds a small per-sample bias, so all points share the same K "models". Pool point n is
    copy n // B of base point n % B (copy-major like Repeated-MNIST ×3), with its own small noise
    on the features: copies are near-duplicates with almost the same BALD score.
    """
    generator = torch.Generator().manual_seed(seed)
    num_base = math.ceil(case.N / copies)
    features_B_D = torch.randn(num_base, features, generator=generator)
    sharpness_B = (4.0 * torch.exp(0.75 * torch.randn(num_base, generator=generator))).clamp_(
        max=8.0
    )
    weight_D_C = torch.randn(features, case.C, generator=generator) / math.sqrt(features)
    keep_K_D = (torch.rand(case.K, features, generator=generator) >= 0.5).float()
    masks_K_D = 1.0 + 0.4 * (2.0 * keep_K_D - 1.0)
    bias_K_C = 0.2 * torch.randn(case.K, case.C, generator=generator)
    log_probs_N_K_C = torch.empty(case.N, case.K, case.C)
    for start in range(0, case.N, chunk):
        stop = min(start + chunk, case.N)
        base = torch.arange(start, stop) % num_base
        noisy_n_D = features_B_D[base] + 0.05 * torch.randn(
            stop - start, features, generator=generator
        )
        # [n, 1, D] * [1, K, D] -> [n, K, D] @ [D, C] -> [n, K, C]
        logits = (noisy_n_D[:, None, :] * masks_K_D[None]) @ weight_D_C + bias_K_C[None]
        log_probs_N_K_C[start:stop] = torch.log_softmax(sharpness_B[base, None, None] * logits, -1)
    return log_probs_N_K_C


def digest(tensor: torch.Tensor) -> str:
    """Short SHA-1 of a tensor's bytes: proves every worker scored the same pool."""
    return hashlib.sha1(tensor.contiguous().numpy().tobytes()).hexdigest()[:12]


def status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> int:
    """Reset VmHWM to the current RSS (Linux clear_refs 5) and return the current RSS."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # old kernel: the peak then also covers data generation (an overestimate)
    return status_kib("VmRSS")


def joint_mutual_information(
    log_probs_N_K_C: torch.Tensor, picks: list[int], *, num_samples: int, seed: int
) -> dict:
    """I(y_1..y_b; ω) of a batch: exact if C^b ≤ num_samples, else from num_samples draws.

    Uses ``batchbald.acquisition.joint_entropy`` (the estimator inside our BatchBALD), with
    fresh draws common to every method's batch. The standard error is that of a plain Monte
    Carlo mean of -log p(ŷ); the stratified draws make it a slight overestimate.
    """
    batch_A_K_C = log_probs_N_K_C[picks].double()
    conditional = float(conditional_entropy(batch_A_K_C).sum())
    if batch_A_K_C.shape[2] ** len(picks) <= num_samples:
        configs = je.enumerate_configurations(batch_A_K_C)
        return {"mi": configs.entropy() - conditional, "se": 0.0, "exact": True}
    generator = torch.Generator().manual_seed(seed)
    configs = je.sample_configurations(batch_A_K_C, num_samples, generator=generator)
    # Distinct configurations carry weights w_m = count / M (they sum to 1).
    weights_M, surprisal_M = configs.log_weights_M.exp(), -configs.log_marginal_M
    entropy = float((weights_M * surprisal_M).sum())
    variance = float((weights_M * (surprisal_M - entropy).square()).sum())
    standard_error = math.sqrt(variance / num_samples)
    return {"mi": entropy - conditional, "se": standard_error, "exact": False}


def machine_facts() -> dict:
    """Python and torch versions, the library's commit, CPU model and count (shared by the
    benchmarks' JSON)."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    import batchbald

    library = Path(batchbald.__file__).parent
    commit = subprocess.run(
        ["git", "-C", str(library), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "batchbald": batchbald.__version__,
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "library": str(library),
        "git_commit": commit or "unknown (not a git checkout)",
    }


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` atomically: a temporary file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)
