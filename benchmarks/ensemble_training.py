"""Training a deep ensemble: members one by one or in worker threads, vs one vmapped model.

Three ways to train the same M members on the same data, side by side in one process, runs
interleaved, medians of ``--repeats``:

* ``joint_vmap``: the stacked :class:`DeepEnsemble` trained as one model by ``train_model``
  (every member sees the same minibatches; what the package did before members got their own
  data order);
* ``members_w1``: :func:`batchbald.training.ensemble.train_members`, each member alone with its
  own generator, one after another;
* ``members_wN``: the same with N worker threads (bitwise the same result as ``members_w1``,
  checked here).

Two member kinds: an MLP over 32-d embeddings (``mlp``) and ResNet-18 on 32×32 RGB inputs.
Wall seconds are the headline (threads exist to cut them); process CPU seconds beside them.
Every way runs off the main thread (``train_members`` always trains in pool threads).
``--threads`` sets PyTorch's intra-op threads. On this shared, loaded machine (load average
15-19) a lone thread running many small ops with 2 intra-op threads waited most of its wall
time on OpenMP barriers (15-19 s wall for 2 s of CPU in a 500-op test), while two such threads
running at once did not: with ``--threads 2`` the worker comparison mostly measures that
effect, so ``--threads 1`` is the one that shows what parallel members gain.

Run (results in docs/performance.md):
    .venv/bin/python benchmarks/ensemble_training.py --threads 1 \
        --out benchmarks/results/ensemble_training_<date>_t1.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

from batchbald.data import ImageData
from batchbald.models import ModelSpec, build_from_spec
from batchbald.training import TrainingConfig, train_model
from batchbald.training.ensemble import member_config, train_members

CASES = {
    "mlp": ((32,), {"member": "mlp", "hidden": 256}, 400,
            TrainingConfig(epoch_size=512, batch_size=64, max_epochs=3, patience=10)),
    "resnet18": ((3, 32, 32), {"member": "resnet18"}, 64,
                 TrainingConfig(epoch_size=64, batch_size=32, max_epochs=1, patience=10,
                                channels_last=False)),
}  # fmt: skip


def _data(shape: tuple[int, ...], n: int, seed: int) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    return ImageData(torch.randn(n, *shape, generator=g), labels, 10)


def _ways(case: str, members: int, workers: int) -> dict[str, Callable[[], torch.nn.Module]]:
    shape, options, n, config = CASES[case]
    spec = ModelSpec("ensemble", members=members, **options)
    train, validation = _data(shape, n, 0), _data(shape, 64, 1)

    def fresh():
        return build_from_spec(spec, 10, shape, generator=torch.Generator().manual_seed(2))

    def joint():
        g = torch.Generator().manual_seed(3)
        joint_config = TrainingConfig(**{**config.__dict__, "validation_samples": members})
        return train_model(fresh(), train, validation, joint_config, generator=g).model

    def alone(count):
        def run():
            def one(member, generator, index):
                return train_model(member, train, validation, member_config(config),
                                   generator=generator)  # fmt: skip

            g = torch.Generator().manual_seed(3)
            return train_members(fresh(), one, generator=g, workers=count)[0]

        return run

    return {"joint_vmap": joint, "members_w1": alone(1), f"members_w{workers}": alone(workers)}


def _state_bytes(model: torch.nn.Module) -> list[bytes]:
    return [value.numpy().tobytes() for value in model.state_dict().values()]


def measure(case: str, members: int, workers: int, repeats: int) -> dict:
    """Median wall and CPU seconds of each way; checks the worker counts agree bitwise."""
    ways = _ways(case, members, workers)
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    results: dict[str, torch.nn.Module] = {}
    for _ in range(repeats):
        for name, fn in ways.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(max_workers=1) as runner:  # every way off the main thread
                results[name] = runner.submit(fn).result()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)
    same = _state_bytes(results["members_w1"]) == _state_bytes(results[f"members_w{workers}"])
    return {
        "case": case, "members": members, "workers": workers,
        "median_wall_s": {n: statistics.median(v) for n, v in wall.items()},
        "median_cpu_s": {n: statistics.median(v) for n, v in cpu.items()},
        "wall_s": wall, "cpu_s": cpu, "workers_bitwise_equal": same,
    }  # fmt: skip


def main() -> None:
    """Run every case and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: as is)")
    parser.add_argument("--out", help="JSON file to write")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for case in args.cases:
        rows.append(measure(case, args.members, args.workers, args.repeats))
        row = rows[-1]
        print(row["case"], {n: round(v, 2) for n, v in row["median_wall_s"].items()},
              "cpu", {n: round(v, 2) for n, v in row["median_cpu_s"].items()},
              "bitwise", row["workers_bitwise_equal"], flush=True)  # fmt: skip
    payload = {"torch_threads": torch.get_num_threads(), "rows": rows}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)


if __name__ == "__main__":
    main()
