"""Out-of-core acquisition (issue 23): top-10 BALD, PowerBALD and BatchBALD over a store on disk.

    python benchmarks/scale_acquisition.py --n 1000000 --k 20 --c 10 --dir /work/tmp/pool \
        --in-memory --peers --out benchmarks/results/scale_n1e6_c10.json

writes (or resumes) a synthetic store of N × K × C float32 log-probabilities, then runs every
measurement in a fresh process (its peak RSS is that process's ru_maxrss) and records wall time,
peak RSS and the picks. ``--in-memory`` also runs the library's in-memory calls on the whole
tensor and checks the streamed picks against them; ``--peers`` runs batchbald_redux 2.0.5 and
baal 2.1.0 on the whole tensor (``--peer-timeout`` seconds each, else reported as not finished).

The pool: logits μ_n + s_n ε_nk with μ_n ~ 3·N(0, I_C), ε_nk ~ N(0, I_C) and a heavy-tailed
disagreement s_n = 0.05 + 0.6 u_n^12 (u uniform): most points confident, a few uncertain, as in
a trained model's pool (BALD median ≈ 0.001, 99th percentile ≈ 0.08, max ≈ 0.2 nats at K = 20).
Shard i is generated from seed i, so the pool does not depend on when the job was interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch

SHARD_ROWS = 2**18
MEASURES = ("bald", "power_bald", "batchbald")
IN_MEMORY = ("memory_bald", "memory_power_bald", "memory_batchbald")
PEER_MEASURES = ("redux_bald", "redux_batchbald", "baal_bald", "baal_batchbald")


def synthetic_shard(rows: int, k: int, c: int, seed: int) -> torch.Tensor:
    """float32 ``[rows, K, C]`` log-probabilities of shard ``seed`` (see the module docstring)."""
    generator = torch.Generator().manual_seed(seed)
    mu = torch.randn(rows, 1, c, generator=generator) * 3
    spread = 0.05 + 0.6 * torch.rand(rows, 1, 1, generator=generator) ** 12
    logits = mu + spread * torch.randn(rows, k, c, generator=generator)
    return torch.log_softmax(logits, dim=-1)


def make_store(directory: Path, n: int, k: int, c: int) -> None:
    """Write (or resume) the synthetic store."""
    from batchbald.scale import StoreWriter

    writer = StoreWriter(directory, num_rows=n, num_samples=k, num_classes=c, shard_rows=SHARD_ROWS)
    for index in writer.pending:
        rows = writer.rows_of(index)
        writer.write(index, synthetic_shard(rows.stop - rows.start, k, c, index))


def _load_all(directory: Path) -> torch.Tensor:
    from batchbald.scale import open_store

    store = open_store(directory)
    return store.take(torch.arange(store.shape[0]).numpy())


def measure(what: str, directory: Path, batch: int, samples: int, seed: int) -> dict:
    """One measurement in this process: picks, seconds (without loading for in-memory ones)."""
    from batchbald import acquisition as acq
    from batchbald.scale import open_store, streamed_batchbald, streamed_stochastic, streamed_top_k

    store = open_store(directory)
    generator = torch.Generator().manual_seed(seed)
    extra: dict = {}
    native = None
    if what.startswith(("memory_", "redux_", "baal_")):
        log_probs = _load_all(directory)
        if what.startswith(("redux_", "baal_")):
            sys.path.insert(0, str(Path(__file__).parent))
            import _peers

            peer = what.split("_", 1)[0]
            native = _peers.prepare("batchbald_redux" if peer == "redux" else "baal", log_probs)
    start = time.perf_counter()
    if what == "bald":
        result = streamed_top_k(store, "bald", batch)
    elif what == "power_bald":
        result = streamed_stochastic(store, "bald", batch, mode="power", generator=generator)
    elif what == "batchbald":
        streamed = streamed_batchbald(store, batch, num_samples=samples, generator=generator)
        result = streamed.result
        extra = {"candidates_loaded": streamed.candidates_loaded, "rounds": streamed.rounds}
    elif what == "memory_bald":
        result = acq.top_k(acq.bald(log_probs), batch)
    elif what == "memory_power_bald":
        result = acq.stochastic_batch(acq.bald(log_probs), batch, generator=generator)
    elif what == "memory_batchbald":
        result = acq.batchbald(log_probs, batch, num_samples=samples, generator=generator)
    else:
        name = "batchbald_redux" if what.startswith("redux") else "baal"
        indices, _ = _peers.run(name, what.split("_", 1)[1], native, batch, samples, seed)
        return {"indices": indices, "seconds": time.perf_counter() - start, **extra}
    seconds = time.perf_counter() - start
    return {"indices": result.indices.tolist(), "seconds": seconds, **extra}


# Whole-tensor runs get an address-space cap, so a pool that does not fit fails with a
# MemoryError in that process instead of pushing the shared machine into swapless OOM.
MEMORY_CAP_BYTES = 12 * 2**30


def _vm_hwm_mib() -> float:
    """Peak resident set size of this process image (``VmHWM`` of /proc/self/status), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cap(what: str):
    if what in MEASURES:
        return None

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))

    return apply


def _child(args: argparse.Namespace, what: str) -> dict:
    command = [
        sys.executable, __file__, "--dir", str(args.dir), "--n", str(args.n), "--k", str(args.k),
        "--c", str(args.c), "--batch", str(args.batch), "--samples", str(args.samples),
        "--child", what,
    ]  # fmt: skip
    timeout = args.peer_timeout if what.startswith(("redux", "baal")) else None
    started, load_before = time.perf_counter(), os.getloadavg()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, preexec_fn=_cap(what)
        )
    except subprocess.TimeoutExpired:
        return {"what": what, "status": f"not finished within {timeout} s (killed)"}
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        return {"what": what, "status": f"failed (exit {done.returncode})", "stderr": tail}
    record = json.loads(done.stdout.strip().splitlines()[-1])
    load = {"load_average_before": load_before, "load_average_after": os.getloadavg()}
    return {"what": what, "status": "ok", "process_wall_s": wall, **load, **record}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--in-memory", action="store_true")
    parser.add_argument("--peers", action="store_true")
    parser.add_argument("--peer-timeout", type=float, default=600.0)
    parser.add_argument("--only", nargs="*", default=None, help="measurements to run")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.child:
        record = measure(args.child, args.dir, args.batch, args.samples, seed=0)
        # VmHWM: this program's own peak. ru_maxrss is not: Linux carries the high-water mark
        # of the forked copy of the parent (which generated the store) across execve.
        record["peak_rss_mib"] = _vm_hwm_mib()
        record["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(record))
        return
    started = time.perf_counter()
    make_store(args.dir, args.n, args.k, args.c)
    print(f"store ready in {time.perf_counter() - started:.1f} s", flush=True)
    plan = list(MEASURES) + (list(IN_MEMORY) if args.in_memory else [])
    plan += list(PEER_MEASURES) if args.peers else []
    plan = [what for what in plan if args.only is None or what in args.only]
    records = []
    for what in plan:
        records.append(_child(args, what))
        print(json.dumps(records[-1]), flush=True)
    by_name = {record["what"]: record for record in records}
    same = {
        what: by_name[what].get("indices") == by_name[f"memory_{what}"].get("indices")
        for what in MEASURES
        if what in by_name and f"memory_{what}" in by_name
    }
    summary = {
        "command": " ".join(sys.argv),
        "shape": [args.n, args.k, args.c],
        "store_gib": args.n * args.k * args.c * 4 / 2**30,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "same_picks_as_in_memory": same,
        "records": records,
    }
    print(json.dumps(summary["same_picks_as_in_memory"]))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
