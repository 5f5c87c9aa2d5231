"""Per-step acquisition time of every registered acquirer: stochastic vs BatchBALD (issue 6).

The stochastic-acquisition paper claims that PowerBALD and its kin cost about as much as top-b
BALD, orders of magnitude less than BatchBALD, whose cost grows with the batch size b. This
script times every name in ``available_acquirers()`` at b = 10 on one deterministic synthetic pool
of the size of the PowerEvaluationBALD report's Repeated-MNIST ×2 step (N = 60,000, C = 10;
K = 20 for per-point and stochastic rules, K = 100 for the greedy batch rules, as in the report's
protocol), then bald, power_bald and batchbald at b = 5, 10, 20, 40. Everything runs in one
process, repeats round-robin over the methods (a change in background load then hits every method
alike), and each median is reported with its ratio to top-b ``bald`` measured in the same run.

    .venv/bin/python benchmarks/method_costs.py --quick            # smoke-test sizes, seconds
    nice -n 10 .venv/bin/python benchmarks/method_costs.py         # full: tens of minutes
    nice -n 10 .venv/bin/python benchmarks/method_costs.py --greedy-repeats 1 --scaling-n 10000

The last is the committed run's command (about 3 minutes on one loaded core): BatchBALD at
b = 20 and 40 on all 60,000 points takes minutes per call, because once the joint MI nears log K
its lazy bounds stop pruning.

See ``benchmarks/README.md`` and ``docs/benchmarks/method_costs.md``.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from batchbald.acquisition import available_acquirers, get_acquirer
from common import Case, digest, machine_facts, synthetic_log_probs, write_json

# Greedy batch rules: scored on the K = 100 pool with ``num_samples`` (the report's protocol).
GREEDY = ("batchbald", "batch_evaluation_bald", "batch_eig")
SCALING_METHODS = ("bald", "power_bald", "batchbald")
SCALING_BATCH_SIZES = (5, 10, 20, 40)
MAIN_BATCH_SIZE = 10


@dataclass(frozen=True)
class Sizes:
    """Pool sizes: N points, C classes, K for per-point rules, K for greedy ones, M samples."""

    N: int = 60_000
    C: int = 10
    K: int = 20
    K_greedy: int = 100
    num_samples: int = 10_000


FULL = Sizes()
QUICK = Sizes(N=2_000, K=10, K_greedy=20, num_samples=1_000)


def evaluation_log_probs(
    log_probs_N_K_C: torch.Tensor, *, generator: torch.Generator, shrink: float = 0.5
) -> torch.Tensor:
    """A stand-in for the evaluation model's log-probabilities on the same pool, same shape.

    The report's evaluation model is distilled on D_train ∪ pool, so it agrees with the training
    model on average but its posterior samples disagree less: each sample's log-probabilities are
    pulled towards the K-average by ``shrink`` (epistemic spread halved), plus a little noise so
    EvaluationBALD is not an exact multiple of BALD. The logits are convex combinations of the
    pool's log-probabilities plus noise, so no value falls more than a few nats below the pool's
    minimum (about -80): float32 ``exp`` never underflows to 0.
    """
    mean_N_1_C = log_probs_N_K_C.mean(dim=1, keepdim=True)
    noise_N_K_C = torch.randn(log_probs_N_K_C.shape, generator=generator)
    logits_N_K_C = mean_N_1_C + shrink * (log_probs_N_K_C - mean_N_1_C) + 0.1 * noise_N_K_C
    return torch.log_softmax(logits_N_K_C, dim=-1)


def build_pools(sizes: Sizes, seed: int) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """K -> (training log-probs, evaluation log-probs), both ``[N, K, C]`` float32."""
    pools = {}
    for k in sorted({sizes.K, sizes.K_greedy}):
        case = Case("method_costs", "method costs", "bald", sizes.N, k, sizes.C, MAIN_BATCH_SIZE)
        log_probs = synthetic_log_probs(case, seed=seed)
        generator = torch.Generator().manual_seed(seed + 1)
        pools[k] = (log_probs, evaluation_log_probs(log_probs, generator=generator))
    return pools


def k_for(method: str, sizes: Sizes) -> int:
    """The K a method is timed at: K_greedy for greedy batch rules, K otherwise."""
    return sizes.K_greedy if method in GREEDY else sizes.K


def scaling_size(sizes: Sizes, args: argparse.Namespace) -> int:
    """Pool points for the cost-against-b rows: ``--scaling-n``, at most (and by default) N."""
    return min(args.scaling_n or sizes.N, sizes.N)


def plan(sizes: Sizes, args: argparse.Namespace) -> list[dict]:
    """The timed jobs (method, N, K, b, repeats): every acquirer at b = 10 on the full pool, bald
    at the greedy rules' K (to compare them with BALD on the same input), and the scaling rows
    on the first ``scaling_n`` points (the same rows as the b = 10 ones when that is N)."""
    greedy_repeats = args.greedy_repeats or args.repeats

    def job(name: str, n: int, k: int, b: int) -> dict:
        repeats = greedy_repeats if name in GREEDY else args.repeats
        return {"method": name, "N": n, "K": k, "b": b, "repeats": repeats}

    jobs = [
        job(name, sizes.N, k_for(name, sizes), MAIN_BATCH_SIZE) for name in available_acquirers()
    ]
    jobs.append(job("bald", sizes.N, sizes.K_greedy, MAIN_BATCH_SIZE))
    if args.methods:  # a subset at b = 10, with bald (the ratios' reference)
        keep = {*args.methods, "bald"}
        return [j for j in jobs if j["method"] in keep]
    scaling_n = scaling_size(sizes, args)
    for name in SCALING_METHODS:
        for b in SCALING_BATCH_SIZES:
            if job(name, scaling_n, k_for(name, sizes), b) not in jobs:
                jobs.append(job(name, scaling_n, k_for(name, sizes), b))
    return jobs


def make_call(job: dict, pools: dict, sizes: Sizes, seed: int, n: int | None = None):
    """A zero-argument callable doing one acquisition as the loop does, on the first
    ``n`` (default ``job["N"]``) pool points."""
    params = {"num_samples": sizes.num_samples} if job["method"] in GREEDY else {}
    acquirer = get_acquirer(job["method"], **params)
    log_probs, eval_log_probs = (tensor[: n or job["N"]] for tensor in pools[job["K"]])
    if not acquirer.needs_predictions:  # e.g. random: only the pool size N is passed
        log_probs = len(log_probs)
    eval_input = eval_log_probs if acquirer.needs_eval_model else None

    def call():
        generator = torch.Generator().manual_seed(seed)  # the same draws in every repeat
        return acquirer(log_probs, job["b"], generator=generator, eval_log_probs_N_K_C=eval_input)

    return call


def _time_once(job: dict, call) -> None:
    """One timed call; an error is recorded in the job (and ends its timing), never raised."""
    start = time.perf_counter()
    try:
        result = call()
    except Exception as error:
        job["error"] = f"{type(error).__name__}: {str(error)[:300]}"
        return
    job["times_s"].append(time.perf_counter() - start)
    job["indices"] = result.indices.tolist()


def time_jobs(jobs: list[dict], pools: dict, sizes: Sizes, seed: int) -> None:
    """Warm every job up on 300 points, then time round-robin: round r runs every job that
    wants more than r repeats, so load changes during the run hit all methods alike."""
    calls = [make_call(job, pools, sizes, seed) for job in jobs]
    for job in jobs:
        job["times_s"] = []
        try:
            make_call(job, pools, sizes, seed, n=300)()
        except Exception:  # the timed call records the error
            pass
    for round_ in range(max(job["repeats"] for job in jobs)):
        for job, call in zip(jobs, calls, strict=True):
            if round_ >= job["repeats"] or "error" in job:
                continue
            _time_once(job, call)
            took = f"{job['times_s'][-1]:9.3f} s" if "error" not in job else job["error"]
            print(
                f"  round {round_ + 1} {job['method']:<22} N={job['N']:<6} K={job['K']:<3} "
                f"b={job['b']:<2} {took}",
                file=sys.stderr,
                flush=True,
            )


def add_ratios(jobs: list[dict], sizes: Sizes) -> None:
    """Per job: its median, the ratio to bald at K = sizes.K (same N and b), to bald at its own
    K, and to the same method at b = 10 (same N); None where the reference was not timed."""
    median = {
        (j["method"], j["N"], j["K"], j["b"]): statistics.median(j["times_s"])
        for j in jobs
        if j["times_s"]
    }

    def ratio(job: dict, key: tuple) -> float | None:
        reference = median.get(key)
        return job["median_s"] / reference if reference and "median_s" in job else None

    for job in jobs:
        n, k, b = job["N"], job["K"], job["b"]
        if job["times_s"]:
            job["median_s"] = median[job["method"], n, k, b]
        job["ratio_to_bald"] = ratio(job, ("bald", n, sizes.K, b))
        job["ratio_to_bald_same_K"] = ratio(job, ("bald", n, k, b))
        job["ratio_to_own_b10"] = ratio(job, (job["method"], n, k, MAIN_BATCH_SIZE))


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×" if value >= 10 else f"{value:.2f}×"


def _row(job: dict, last: str) -> str:
    time_text = f"{job['median_s']:.3f}" if "median_s" in job else job.get("error", "not run")
    return (
        f"| {job['method']} | {job['N']:,} | {job['K']} | {job['b']} | {time_text} | "
        f"{len(job['times_s'])} | {_ratio(job['ratio_to_bald'])} | {_ratio(job[last])} |\n"
    )


def markdown(jobs: list[dict], sizes: Sizes, scaling_n: int) -> str:
    """Two Markdown tables: every method at b = 10 on the full pool, then cost against b."""
    head = "| method | N | K | b | median s | runs | × bald (K={k}, same N, b) | {last} |\n"
    rule = "|---|---|---|---|---|---|---|---|\n"
    main = [j for j in jobs if j["N"] == sizes.N and j["b"] == MAIN_BATCH_SIZE]
    main.sort(key=lambda j: j.get("median_s", math.inf))
    scaling = [
        j
        for j in jobs
        if j["method"] in SCALING_METHODS
        and j["K"] == k_for(j["method"], sizes)
        and j["N"] == scaling_n
    ]
    scaling.sort(key=lambda j: (SCALING_METHODS.index(j["method"]), j["b"]))
    return (
        f"Every acquirer at b = {MAIN_BATCH_SIZE} (fastest first)\n\n"
        + head.format(k=sizes.K, last="× bald (same K)")
        + rule
        + "".join(_row(j, "ratio_to_bald_same_K") for j in main)
        + "\nCost against b\n\n"
        + head.format(k=sizes.K, last=f"× same method at b = {MAIN_BATCH_SIZE}")
        + rule
        + "".join(_row(j, "ratio_to_own_b10") for j in scaling)
    )


def environment() -> dict:
    """Date, versions, commit, thread count and CPU, for the JSON."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **machine_facts(),
        "threads": torch.get_num_threads(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument(
        "--greedy-repeats",
        type=int,
        help="timed rounds of the greedy batch rules (default: --repeats)",
    )
    parser.add_argument(
        "--scaling-n",
        type=int,
        help="pool points for the cost-against-b rows (default: the whole pool, N)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results/method_costs.json"), help="JSON results"
    )
    parser.add_argument("--seed", type=int, default=0, help="pool and acquisition generators")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=available_acquirers(),
        help="time only these acquirers at b = 10 (and bald; no scaling rows); default: all",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # e.g. BatchBALD's "joint MI near log K" notice
    sizes = QUICK if args.quick else FULL
    env = environment()
    command = " ".join(["benchmarks/method_costs.py", *sys.argv[1:]])
    print(f"command: {command}")
    print("environment: " + ", ".join(f"{key}={value}" for key, value in env.items()))
    print(f"sizes: {asdict(sizes)}")
    load_start = os.getloadavg()[0]
    print(f"load average (1 min) at start: {load_start:.2f}")
    pools = build_pools(sizes, args.seed)
    digests = {k: [digest(t) for t in pool] for k, pool in pools.items()}
    jobs = plan(sizes, args)
    started = time.perf_counter()
    time_jobs(jobs, pools, sizes, args.seed)
    add_ratios(jobs, sizes)
    load_end = os.getloadavg()[0]
    table = markdown(jobs, sizes, scaling_size(sizes, args))
    print(f"\n{table}\nload average (1 min) at end: {load_end:.2f}")
    payload = {
        "command": command,
        "environment": env,
        "sizes": asdict(sizes),
        "quick": args.quick,
        "repeats": args.repeats,
        "greedy_repeats": args.greedy_repeats or args.repeats,
        "scaling_n": scaling_size(sizes, args),
        "seed": args.seed,
        "pool_sha1": {f"K={k}": {"train": d[0], "eval": d[1]} for k, d in digests.items()},
        "load_1min": [load_start, load_end],
        "timed_wall_s": time.perf_counter() - started,
        "results": jobs,
        "markdown": table,
    }
    write_json(args.out, payload)
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
