"""EPIG, coreset and BADGE against the peer libraries that implement them (issue 24).

Time (median of ``--repeats`` calls in one process), peak extra memory (VmHWM above the RSS
once the inputs are built, one call in a second process with glibc's mmap threshold fixed at
128 KiB) and agreement, on the synthetic MNIST-sized pool of ``benchmarks/baselines.py``:
N = 59,000 points, C = 10, K = 100, T = 100 target points (fixed pool rows, given to both
sides), D = 128 features, L = 300 labelled points, b = 10.

Peers (``pip install -c constraints.txt -e '.[bench]'`` in a separate virtual environment, then
``pip uninstall -y torchvision``: the torchvision wheel baal pulls from PyPI is not built for the
CPU torch 2.13.0 and fails at import, and baal's heuristics do not need it; the library never
imports the peers), each given its input in its native layout, prepared before timing starts:

- ours also with ``dtype = "float32"`` (EPIG's joint in float32, as baal's).
- **baal 2.1.0** ``EPIG().compute_score(probs [N, C, K], target_probs [T, C, K])``: float32, the
  whole ``[N, C, T·C]`` joint at once. Agreement: max |Δ score| against ours (float64) and the
  overlap of the top-10.
- **small-text 1.4.1** ``greedy_coreset(x, unlabelled, labelled, b, "euclidean")`` on the pool
  and labelled features (k-center greedy, Sener & Savarese 2018, as ours). Agreement: the picks.
- **small-text 1.4.1** BADGE: its ``BADGE.get_badge_embeddings`` (the explicit ``[N, C·D]``
  gradient embeddings, float64) and ``init_kmeans_plusplus_safe`` (scikit-learn's greedy
  k-means++ with local trials), as its ``BADGE.sample`` runs them on precomputed probabilities.
  A different seeding rule from Ash et al.'s D² sampling that ours implements, so only time and
  memory are compared.

    /work/bench_venv/bin/python benchmarks/baseline_peers.py --out benchmarks/results/x.json
    .venv/bin/python benchmarks/baseline_peers.py --quick      # ours only when peers are absent
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import Case, machine_facts, reset_peak_rss, status_kib, synthetic_log_probs, write_json

RUNS = (
    ("epig", "ours"),
    ("epig", "ours float32"),
    ("epig", "baal"),
    ("coreset", "ours"),
    ("coreset", "small_text"),
    ("badge", "ours"),
    ("badge", "small_text"),
)


def inputs(sizes: dict) -> dict:
    """The deterministic pool, targets and features (numpy and torch views of the same data)."""
    case = Case("epig", "", "", sizes["N"], sizes["K"], sizes["C"], sizes["b"])
    log_probs = synthetic_log_probs(case, seed=0)
    rows = torch.randperm(sizes["N"], generator=torch.Generator().manual_seed(1))[: sizes["T"]]
    generator = torch.Generator().manual_seed(2)
    pool_features = torch.randn(sizes["N"], sizes["D"], generator=generator).relu_()
    labelled = torch.randn(sizes["L"], sizes["D"], generator=generator).relu_()
    return {"log_probs": log_probs, "target": log_probs[rows].clone(),
            "features": pool_features, "labelled": labelled}  # fmt: skip


def ours(method: str, data: dict, b: int, dtype: str = "float64"):
    """A zero-argument call of our rule returning (picks, full scores or None)."""
    from batchbald.acquisition import epig, get_acquirer

    if method == "epig":

        def call():
            scores = epig(data["log_probs"], data["target"], dtype=dtype)
            return scores.topk(b).indices.tolist(), scores.numpy()

        return call
    acquirer = get_acquirer(method)
    first = data["log_probs"] if method == "badge" else len(data["log_probs"])
    extra = {"labelled_embeddings_L_D": data["labelled"]} if method == "coreset" else {}

    def call_rule():
        generator = torch.Generator().manual_seed(0)
        result = acquirer(first, b, generator=generator, embeddings_N_D=data["features"], **extra)
        return result.indices.tolist(), None

    return call_rule


def peer(method: str, data: dict, b: int):
    """A zero-argument call of the peer's implementation (inputs converted beforehand)."""
    if method == "epig":
        from baal.active.heuristics import EPIG

        probs = np.ascontiguousarray(data["log_probs"].exp().permute(0, 2, 1).numpy())
        target = np.ascontiguousarray(data["target"].exp().permute(0, 2, 1).numpy())
        heuristic = EPIG()

        def call():
            scores = heuristic.compute_score(probs, target_predictions=target)
            return np.argsort(-scores, kind="stable")[:b].tolist(), scores

        return call
    from small_text.integrations.pytorch.query_strategies import BADGE
    from small_text.query_strategies.coresets import greedy_coreset
    from small_text.utils.clustering import init_kmeans_plusplus_safe

    features, labelled = data["features"].numpy(), data["labelled"].numpy()
    if method == "coreset":
        x = np.concatenate([features, labelled])
        pool, known = np.arange(len(features)), np.arange(len(features), len(x))
        return lambda: (greedy_coreset(x, pool, known, b, "euclidean").tolist(), None)
    proba = data["log_probs"].exp().mean(1).numpy()
    badge = BADGE(proba.shape[1])

    def call_badge():
        embeddings = badge.get_badge_embeddings(features, proba)
        norms = np.linalg.norm(embeddings, axis=1)
        state = np.random.RandomState(0)
        _, picks = init_kmeans_plusplus_safe(
            embeddings, b, x_squared_norms=norms, random_state=state
        )
        return picks.tolist(), None

    return call_badge


def worker(spec_path: str, out_path: str) -> None:
    """One (method, library) run: ``repeats`` timed calls; writes JSON (+ scores as .npy)."""
    spec = json.loads(Path(spec_path).read_text())
    torch.set_num_threads(spec["threads"])
    data = inputs(spec["sizes"])
    method, library, b = spec["method"], spec["library"], spec["sizes"]["b"]
    result = {"method": method, "library": library}
    try:
        if library.startswith("ours"):
            call = ours(method, data, b, "float32" if library.endswith("float32") else "float64")
        else:
            call = peer(method, data, b)
    except ImportError as error:
        Path(out_path).write_text(json.dumps(result | {"status": f"not installed: {error}"}))
        return
    call()  # warm-up (imports, allocator)
    # Fault the inputs in: proactive reclaim can page out cold input pages, and reading them
    # back during the call would be billed as the method's memory (as benchmarks/acquisition.py).
    for tensor in data.values():
        float(tensor.sum())
    baseline = reset_peak_rss()
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        picks, scores = call()
        times.append(time.perf_counter() - start)
    result |= {"status": "ok", "times_s": times, "picks": [int(i) for i in picks]}
    result["peak_extra_bytes"] = status_kib("VmHWM") - baseline
    if scores is not None:
        np.save(Path(out_path).with_suffix(".npy"), np.asarray(scores, dtype=np.float64))
    Path(out_path).write_text(json.dumps(result))


def spawn(method: str, library: str, args: argparse.Namespace, folder: Path) -> dict:
    """Time ``repeats`` calls in one fresh process, then measure the peak memory of one call in
    another; returns the timed run's result (scores loaded if any) with the memory run's peak."""
    timed = _run_worker(method, library, args, folder, repeats=args.repeats, fixed_mmap=False)
    if timed.get("status") == "ok":
        peak = _run_worker(method, library, args, folder, repeats=1, fixed_mmap=True)
        timed["peak_extra_bytes"] = peak.get("peak_extra_bytes", float("nan"))
    return timed


def _run_worker(
    method: str, library: str, args: argparse.Namespace, folder: Path, *, repeats: int,
    fixed_mmap: bool,
) -> dict:  # fmt: skip
    spec = {"method": method, "library": library, "threads": args.threads,
            "repeats": repeats, "sizes": sizes_of(args)}  # fmt: skip
    stem = f"{method}_{library}_{fixed_mmap}".replace(" ", "_")
    spec_path, out_path = folder / f"{stem}.spec", folder / f"{stem}.json"
    spec_path.write_text(json.dumps(spec))
    env = os.environ | {f"{name}_NUM_THREADS": str(args.threads) for name in ("OMP", "MKL")}
    if fixed_mmap:
        # Every allocation of 128 KiB or more is then its own mapping, returned when freed, so
        # VmHWM measures what is alive at once (glibc's adaptive threshold keeps freed blocks:
        # repeats of one call differed by hundreds of MiB). It slows calls that allocate many
        # blocks (page faults), so the timed run leaves the allocator as it is.
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    command = [sys.executable, __file__, "--worker", str(spec_path), str(out_path)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if not out_path.exists():
        return {"method": method, "library": library, "status": f"crashed: {proc.stderr[-300:]}"}
    result = json.loads(out_path.read_text())
    scores = out_path.with_suffix(".npy")
    result["scores"] = np.load(scores) if scores.exists() else None
    return result


def sizes_of(args: argparse.Namespace) -> dict:
    if args.quick:
        return {"N": 2000, "K": 20, "C": 10, "T": 20, "D": 32, "L": 30, "b": 10}
    return {"N": 59_000, "K": 100, "C": 10, "T": 100, "D": 128, "L": 300, "b": 10}


def agreement(reference: dict, other: dict) -> str:
    """How the peer's output compares with ours."""
    if other.get("status") != "ok" or reference.get("status") != "ok":
        return "—"
    overlap = len(set(reference["picks"]) & set(other["picks"]))
    text = f"{overlap}/{len(reference['picks'])} picks shared"
    if reference["scores"] is not None and other["scores"] is not None:
        text += f", max |Δ score| {np.abs(reference['scores'] - other['scores']).max():.1e} nats"
    return text


def table(results: list[dict]) -> str:
    rows = ["| method | library | median s | × ours | peak extra MiB | agreement with ours |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for result in results:
        mine = next(
            r for r in results if r["method"] == result["method"] and r["library"] == "ours"
        )
        if result.get("status") != "ok":
            rows.append(f"| {result['method']} | {result['library']} | {result['status']} | | | |")
            continue
        median = statistics.median(result["times_s"])
        ratio = median / statistics.median(mine["times_s"]) if mine.get("status") == "ok" else 0
        same = "—" if result is mine else agreement(mine, result)
        rows.append(f"| {result['method']} | {result['library']} | {median:.3f} | {ratio:.1f} | "
                    f"{result['peak_extra_bytes'] / 2**20:.0f} | {same} |")  # fmt: skip
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (N = 2,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per run")
    parser.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    parser.add_argument("--out", type=Path, help="write the raw JSON here")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        results = [spawn(method, library, args, Path(folder)) for method, library in RUNS]
    print(table(results))
    if args.out:
        for result in results:
            result.pop("scores", None)
        payload = {"command": " ".join(sys.argv), "sizes": sizes_of(args), "results": results}
        write_json(args.out, payload | machine_facts())
    return 0


if __name__ == "__main__":
    sys.exit(main())
