"""Acquisition benchmark: our BALD/BatchBALD against batchbald_redux and baal (issue 2).

Every measurement runs in a fresh worker process (this script re-invoked with ``--worker``) that
builds the same deterministic synthetic pool, resets the peak-RSS counter, and times the method:
the peak extra memory (VmHWM after minus VmRSS before) is then that method's alone, a peer that
exhausts memory cannot take the benchmark down, and baal runs under an address-space cap.
Timings are medians over repeats; ratios compare runs made one after another in the same
invocation on the same machine (it is shared, so absolute times are noisy).

    .venv/bin/python benchmarks/acquisition.py                  # every case, peers included
    .venv/bin/python benchmarks/acquisition.py --case 1 --case 4 --repeats 3
    .venv/bin/python benchmarks/acquisition.py --quick           # small sizes, a smoke test
    .venv/bin/python benchmarks/acquisition.py --reuse-peers     # peers from the JSON cache

Peers are imported only inside workers (``benchmarks/_peers.py``) and are reported as "not
installed" when missing. See ``benchmarks/README.md`` and ``docs/benchmarks/acquisition.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from common import (  # benchmarks/common.py, beside this script
    CASES,
    GIB,
    MIB,
    Case,
    digest,
    joint_mutual_information,
    machine_facts,
    quick,
    reset_peak_rss,
    status_kib,
    synthetic_log_probs,
)

DEFAULT_BUDGET = GIB  # batchbald's default max_memory_bytes
SMALL_BUDGET = 64 * MIB
BAAL_CAP_DEFAULT_GIB = 15.0

# ---------------------------------------------------------------------------------------------
# Worker: one method, fresh process
# ---------------------------------------------------------------------------------------------


def _ours_call(case: Case, run: dict, log_probs: torch.Tensor, seed: int):
    from batchbald.acquisition import batchbald, get_acquirer

    if case.method == "bald":
        acquirer = get_acquirer("bald")
        return lambda: acquirer(log_probs, case.b)

    def call():
        generator = torch.Generator().manual_seed(seed)
        return batchbald(
            log_probs,
            case.b,
            num_samples=run["M"],
            generator=generator,
            max_memory_bytes=run["budget"],
            lazy=run["lazy"],
        )

    return call


def _make_call(case: Case, run: dict, log_probs: torch.Tensor, seed: int):
    """A zero-argument callable doing one acquisition -> (indices, scores or None)."""
    if run["kind"] == "ours":
        call = _ours_call(case, run, log_probs, seed)

        def ours():
            result = call()
            return result.indices.tolist(), result.scores.tolist()

        return ours
    import _peers

    native = _peers.prepare(run["peer"], log_probs)
    return lambda: _peers.run(run["peer"], case.method, native, case.b, run["M"], seed)


def _warm_up(case: Case, run: dict, log_probs: torch.Tensor, seed: int) -> None:
    """One small acquisition first, so that code pages, thread pools and allocator arenas the
    method touches are resident before the peak-memory baseline (and not billed as its memory)."""
    small = dataclasses.replace(case, N=min(case.N, 300), b=min(case.b, 6))
    try:
        _make_call(small, run, log_probs[: small.N], seed)()
    except Exception:  # the real run reports the error
        pass


def worker(spec: dict) -> dict:
    """Run one method ``repeats`` times on the case's pool; never raises."""
    import time
    import warnings

    import _peers

    if spec["run"].get("mem_cap_bytes"):
        import resource

        cap = int(spec["run"]["mem_cap_bytes"])
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    torch.set_num_threads(spec["threads"])
    case, run, seed = Case(**spec["case"]), spec["run"], spec["seed"]
    log_probs = synthetic_log_probs(case, seed=seed)
    result: dict[str, Any] = {"label": run["label"], "kind": run["kind"], "data": digest(log_probs)}
    try:
        call = _make_call(case, run, log_probs, seed)
    except _peers.PeerNotInstalledError as error:
        return result | {"status": "not installed", "error": str(error)}
    _warm_up(case, run, log_probs, seed)
    # Fault the whole input in: this machine's proactive reclaim (DAMON) can page out cold input
    # pages, and reading them back during the call would be billed as the method's memory.
    float(log_probs.sum())
    baseline = reset_peak_rss()
    times: list[float] = []
    outputs = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for _ in range(spec["repeats"]):
                start = time.perf_counter()
                outputs.append(call())
                times.append(time.perf_counter() - start)
            result["status"] = "ok"
        except Exception as error:  # a peer running out of memory is a result, not a crash
            result["status"] = "failed"
            result["error"] = f"{type(error).__name__}: {str(error)[:300]}"
            result["failed_after_s"] = time.perf_counter() - start
    result["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught})
    result["peak_extra_bytes"] = status_kib("VmHWM") - baseline
    result["baseline_rss_bytes"] = baseline
    result["times_s"] = times
    if outputs:
        result["picks"], result["scores"] = outputs[-1]
        result["repeats_agree"] = all(out[0] == outputs[-1][0] for out in outputs)
    return result


# ---------------------------------------------------------------------------------------------
# Parent: plan, spawn, cache
# ---------------------------------------------------------------------------------------------


def plan_runs(case: Case, args: argparse.Namespace) -> list[dict]:
    """The methods timed for a case, ours first. Each dict is a worker's ``run`` spec."""
    ours = {"kind": "ours", "M": case.M, "budget": DEFAULT_BUDGET, "lazy": True}
    runs = [ours | {"label": "ours", "repeats": args.repeats}]
    if case.method == "batchbald":
        if case.full_greedy:
            runs.append(ours | {"label": "ours lazy=False", "lazy": False, "repeats": 1})
        runs.append(ours | {"label": "ours 64 MiB", "budget": SMALL_BUDGET, "repeats": 1})
    if args.skip_peers:
        return runs
    cap = int(args.baal_cap_gib * GIB)
    # BALD takes a second: give its peers at least 3 runs even when --peer-repeats is 1.
    repeats = args.peer_repeats if case.method == "batchbald" else max(args.peer_repeats, 3)
    for peer in case.peers:
        spec = {"kind": "peer", "peer": peer, "M": case.M, "repeats": repeats}
        if peer == "baal":
            spec["mem_cap_bytes"] = cap
        runs.append(spec | {"label": peer})
        if peer == "baal" and case.baal_small_M:
            label = f"baal M={case.baal_small_M:,}"
            runs.append(spec | {"label": label, "M": case.baal_small_M})
    return runs


def spawn(case: Case, run: dict, args: argparse.Namespace) -> dict:
    """Run :func:`worker` in a fresh process; a crash or timeout becomes a result."""
    spec = {"case": dataclasses.asdict(case), "run": run, "seed": args.seed}
    spec |= {"threads": args.threads, "repeats": run["repeats"]}
    env = os.environ | {"TQDM_DISABLE": "1"}
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(args.threads)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        command = [sys.executable, __file__, "--worker", str(spec_path), str(out_path)]
        try:
            proc = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=args.timeout
            )
            result = json.loads(out_path.read_text()) if out_path.exists() else None
            if result is None:
                tail = proc.stderr.strip().splitlines()[-3:]
                result = {"status": "crashed", "error": f"exit {proc.returncode}: {tail}"}
        except subprocess.TimeoutExpired:
            result = {"status": "timeout", "error": f"over {args.timeout} s"}
    result |= {"label": run["label"], "run": run, "load_1min": [load_before, os.getloadavg()[0]]}
    return result


def cache_key(case: Case, run: dict, data: str, version: str | None) -> str:
    sizes = f"N={case.N},K={case.K},C={case.C},b={case.b},M={run['M']}"
    return f"{case.method}|{sizes}|{run['label']}|{version}|data={data}"


def run_case(case: Case, args: argparse.Namespace, cache: dict) -> dict:
    """Time every planned method for ``case`` and analyse the picks."""
    import _peers

    log_probs = synthetic_log_probs(case, seed=args.seed)
    data = digest(log_probs)
    results = []
    for run in plan_runs(case, args):
        version = _peers.peer_version(run["peer"]) if run["kind"] == "peer" else None
        key = cache_key(case, run, data, version)
        if run["kind"] == "peer" and args.reuse_peers and key in cache:
            result = cache[key] | {"cached": True}
        else:
            print(f"  running {run['label']} ...", file=sys.stderr, flush=True)
            result = spawn(case, run, args)
            if run["kind"] == "peer" and result["status"] in ("ok", "failed"):
                cache[key] = result
        result["version"] = version
        results.append(result)
    analyse(case, log_probs, results, args)
    return {"case": dataclasses.asdict(case), "data": data, "results": results}


# ---------------------------------------------------------------------------------------------
# Analysis: ratios, pick agreement, joint MI re-estimated with our joint-entropy code
# ---------------------------------------------------------------------------------------------


def exact_picks(case: Case) -> int:
    """Number of greedy picks made with exact joint entropies (C^n ≤ M, n = picks so far + 1)."""
    if case.method != "batchbald":
        return case.b
    return sum(1 for step in range(case.b) if case.C ** (step + 1) <= case.M)


def agreement(case: Case, reference: dict, other: dict) -> dict:
    """How ``other``'s picks compare with ours (prefix, exact phase, set) and score deltas."""
    ours, theirs = reference["picks"], other["picks"]
    prefix = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), len(ours)
    )
    exact = exact_picks(case)
    out = {
        "identical": ours == theirs,
        "common_prefix": prefix,
        "exact_picks": exact,
        "exact_phase_identical": ours[:exact] == theirs[:exact],
        "overlap": len(set(ours) & set(theirs)),
    }
    if other.get("scores") is not None and reference.get("scores") is not None:
        # Cumulative joint MI after each pick is comparable where the picks agree, and, for a
        # peer (other random draws), only in the exact phase. Ours with other options uses the
        # same seed, so the same draws: its scores must match over the whole common prefix.
        limit = prefix if other.get("kind") == "ours" else min(prefix, exact)
        pairs = zip(reference["scores"][:limit], other["scores"][:limit], strict=True)
        out["max_abs_score_delta"] = max((abs(a - b) for a, b in pairs), default=0.0)
    return out


def analyse(case: Case, log_probs: torch.Tensor, results: list[dict], args) -> None:
    """Add medians, ratios vs ours, agreement and joint MI to each result (in place)."""
    ours = results[0]
    for result in results:
        if result.get("status") != "ok" or not result.get("times_s"):
            continue
        result["median_s"] = statistics.median(result["times_s"])
        if ours.get("status") == "ok":
            result["ratio_vs_ours"] = result["median_s"] / statistics.median(ours["times_s"])
            if result is not ours:
                result["agreement"] = agreement(case, ours, result)
        if case.method == "batchbald":
            result["joint_mi"] = joint_mutual_information(
                log_probs, result["picks"], num_samples=args.eval_samples, seed=args.seed + 1
            )


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def _picks_text(case: Case, result: dict) -> str:
    agree = result.get("agreement")
    if agree is None:
        return "-"
    if agree["identical"]:
        text = f"same {case.b}/{case.b}"
    elif case.method == "bald":
        text = f"overlap {agree['overlap']}/{case.b}"
    else:
        exact = "same" if agree["exact_phase_identical"] else "DIFFER"
        text = (
            f"first {agree['exact_picks']} (exact) {exact}; prefix {agree['common_prefix']}, "
            f"overlap {agree['overlap']}/{case.b}"
        )
    if "max_abs_score_delta" in agree:
        text += f"; |Δscore| {agree['max_abs_score_delta']:.1e}"
    return text


def _row(case: Case, result: dict) -> str:
    label = result["label"] + (" (cached)" if result.get("cached") else "")
    if result.get("status") != "ok":
        after = result.get("failed_after_s")
        when = f" after {after:.1f} s" if after is not None else ""
        peak = result.get("peak_extra_bytes")
        peak_text = f", peak extra {peak / MIB:,.0f} MiB" if peak is not None else ""
        status = result.get("status", "?").upper()
        return f"  {label:<22} {status}{when}{peak_text}: {result.get('error', '')}"
    ratio = result.get("ratio_vs_ours")
    mi = result.get("joint_mi")
    mi_text = (
        ""
        if mi is None
        else f"{mi['mi']:.4f}" + (" exact" if mi["exact"] else f" ± {mi['se']:.4f}")
    )
    return (
        f"  {label:<22} {result['median_s']:>9.3f} {len(result['times_s']):>4} "
        f"{(f'{ratio:.1f}x' if ratio is not None else '-'):>8} "
        f"{result['peak_extra_bytes'] / MIB:>9,.1f}  {mi_text:<17} {_picks_text(case, result)}"
    )


def print_case(case: Case, report: dict) -> None:
    sizes = f"N={case.N:,} K={case.K} C={case.C} b={case.b}"
    sizes += f" M={case.M:,}" if case.method == "batchbald" else ""
    print(f"\nCase {case.key}: {case.title} ({case.method}; {sizes}; pool sha1 {report['data']})")
    mi_head = "joint MI (nats)" if case.method == "batchbald" else ""
    print(
        f"  {'method':<22} {'median s':>9} {'runs':>4} {'vs ours':>8} {'peak MiB':>9}  "
        f"{mi_head:<17} picks vs ours"
    )
    for result in report["results"]:
        print(_row(case, result))
    for result in report["results"]:
        for warning in result.get("warnings", []):
            print(f"    [{result['label']}] {warning}")


def _result(reports: dict, key: str, label: str) -> dict | None:
    if key not in reports:
        return None
    return next((r for r in reports[key]["results"] if r["label"] == label), None)


def _ok(result: dict | None) -> bool:
    return result is not None and result.get("status") == "ok"


def _speedup_target(reports: dict, key: str, peer: str, at_least: float, what: str) -> dict:
    ours, theirs = _result(reports, key, "ours"), _result(reports, key, peer)
    target = f"case {key}: {what} >= {at_least:g}x faster than {peer}"
    if not (_ok(ours) and _ok(theirs)):
        status = (theirs or {}).get("status", "not run")
        return {"target": target, "measured": f"{peer}: {status}", "met": None}
    ratio = theirs["median_s"] / ours["median_s"]
    measured = f"{ratio:.1f}x ({theirs['median_s']:.2f} s vs {ours['median_s']:.3f} s)"
    return {"target": target, "measured": measured, "met": ratio >= at_least}


def _case1_picks_target(reports: dict) -> dict:
    redux = _result(reports, "1", "batchbald_redux")
    target = "case 1: identical picks to batchbald_redux in the exact phase"
    if not (_ok(redux) and "agreement" in redux):
        return {"target": target, "measured": "batchbald_redux not run", "met": None}
    agree = redux["agreement"]
    measured = (
        f"first {agree['exact_picks']} picks "
        f"{'identical' if agree['exact_phase_identical'] else 'differ'}"
        f" (common prefix {agree['common_prefix']}/{len(redux['picks'])})"
    )
    return {"target": target, "measured": measured, "met": agree["exact_phase_identical"]}


def _memory_targets(reports: dict) -> list[dict]:
    targets = []
    for key in reports:
        ours = _result(reports, key, "ours")
        small = _result(reports, key, "ours 64 MiB")
        if _ok(ours):
            peak = ours["peak_extra_bytes"]
            targets.append({
                "target": f"case {key}: ours peak extra memory < 1 GiB (default budget)",
                "measured": f"{peak / MIB:,.1f} MiB", "met": peak < DEFAULT_BUDGET,
            })  # fmt: skip
        if _ok(small):
            peak, same = small["peak_extra_bytes"], small["agreement"]["identical"]
            delta = small["agreement"].get("max_abs_score_delta", float("nan"))
            targets.append({
                "target": f"case {key}: with a 64 MiB budget, peak extra < 64 MiB and same picks",
                "measured": f"{peak / MIB:,.1f} MiB, picks {'identical' if same else 'DIFFER'}, "
                f"|Δscore| {delta:.1e}",
                "met": peak < SMALL_BUDGET and same,
            })  # fmt: skip
    return targets


def evaluate_targets(reports: dict) -> list[dict]:
    """Issue 2's targets, each with what was measured and whether it is met (None: not run)."""
    targets = []
    if "1" in reports:
        targets.append(_speedup_target(reports, "1", "batchbald_redux", 50, "BatchBALD"))
        targets.append(_case1_picks_target(reports))
    if "2" in reports:
        ours = _result(reports, "2", "ours")
        measured = f"{ours['median_s']:.2f} s" if _ok(ours) else (ours or {}).get("status")
        met = ours["median_s"] < 30 if _ok(ours) else False
        targets.append(
            {"target": "case 2: ours < 30 s on N=60,000", "measured": measured, "met": met}
        )
    if "3" in reports:
        targets.append(_speedup_target(reports, "3", "batchbald_redux", 50, "BatchBALD"))
    if "4" in reports:
        targets.append(_speedup_target(reports, "4", "baal", 1, "BALD top-10"))
    if "5" in reports:
        ours = _result(reports, "5", "ours")
        measured = f"{ours['median_s']:.2f} s" if _ok(ours) else (ours or {}).get("status")
        targets.append({"target": "case 5: b=100 on N=100,000 completes", "measured": measured,
                        "met": _ok(ours)})  # fmt: skip
    return targets + _memory_targets(reports)


def print_targets(targets: list[dict], quick_sizes: bool) -> None:
    note = " (QUICK sizes: not the issue's configuration)" if quick_sizes else ""
    print(f"\nTargets{note}")
    for target in targets:
        verdict = {True: "MET", False: "NOT MET", None: "n/a"}[target["met"]]
        print(f"  [{verdict:>7}] {target['target']}: {target['measured']}")


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def environment(args: argparse.Namespace) -> dict:
    import _peers

    return {
        **machine_facts(),
        "threads": args.threads,
        "peers": {peer: _peers.peer_version(peer) for peer in _peers.PEERS},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="case to run (repeatable); default: all")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of ours (median)")
    parser.add_argument(
        "--peer-repeats", type=int, default=1, help="timed runs of each peer (at least 3 for BALD)"
    )
    parser.add_argument("--skip-peers", action="store_true", help="time ours only")
    parser.add_argument("--reuse-peers", action="store_true",
                        help="take peer results from --peer-cache when present")  # fmt: skip
    parser.add_argument("--peer-cache", type=Path, default=Path("results/acquisition_peers.json"))
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=Path("results/acquisition_benchmark.json"))
    parser.add_argument("--threads", type=int, default=2, help="torch/BLAS threads per worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-samples", type=int, default=100_000,
                        help="M for re-estimating each batch's joint MI")  # fmt: skip
    parser.add_argument("--baal-cap-gib", type=float, default=BAAL_CAP_DEFAULT_GIB,
                        help="address-space cap (RLIMIT_AS) for baal's workers")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per worker")
    parser.add_argument("--reanalyse", type=Path, metavar="JSON",
                        help="re-print a saved --out file with the current analysis")  # fmt: skip
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def reanalyse(path: Path, args: argparse.Namespace) -> int:
    """Re-print a saved run (its timings and picks) with the current analysis code."""
    payload = json.loads(path.read_text())
    print(f"re-analysis of {path} (timings from that run, not re-measured)")
    print(f"original command: benchmarks/acquisition.py {' '.join(payload['argv'])}")
    print("environment: " + ", ".join(f"{k}={v}" for k, v in payload["environment"].items()))
    reports = payload["cases"]
    for report in reports.values():
        case = Case(**(report["case"] | {"peers": tuple(report["case"]["peers"])}))
        analyse(case, synthetic_log_probs(case, seed=args.seed), report["results"], args)
        print_case(case, report)
    payload["targets"] = evaluate_targets(reports)
    print_targets(payload["targets"], quick_sizes="--quick" in payload["argv"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"results written to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        spec_path, out_path = args.worker
        Path(out_path).write_text(json.dumps(worker(json.loads(Path(spec_path).read_text()))))
        return 0
    if args.reanalyse:
        return reanalyse(args.reanalyse, args)
    torch.set_num_threads(args.threads)
    cache = json.loads(args.peer_cache.read_text()) if args.peer_cache.exists() else {}
    env = environment(args)
    print(f"command: {' '.join(['benchmarks/acquisition.py', *sys.argv[1:]])}")
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    reports = {}
    for key in args.case or sorted(CASES):
        case = quick(CASES[key]) if args.quick else CASES[key]
        reports[key] = run_case(case, args, cache)
        print_case(case, reports[key])
        args.peer_cache.parent.mkdir(parents=True, exist_ok=True)
        args.peer_cache.write_text(json.dumps(cache, indent=1))
    targets = evaluate_targets(reports)
    print_targets(targets, args.quick)
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"argv": sys.argv[1:], "environment": env, "cases": reports, "targets": targets}
    args.out.write_text(json.dumps(payload, indent=1))
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
