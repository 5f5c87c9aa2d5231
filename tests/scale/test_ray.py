"""Pool scoring, the loop's scoring step and the trial backend on a local Ray instance (2 CPUs)
that these tests start; Ray scoring is compared byte for byte with local scoring."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import torch

from batchbald.errors import ClusterError
from batchbald.experiments.config import config_from_dict
from batchbald.experiments.results import load_trials, read_json
from batchbald.experiments.runner import plan_trials, run_trials
from batchbald.experiments.trial import build_trial_loop
from batchbald.models import build_model, predict_log_probs
from batchbald.scale import ray_jobs, scoring
from batchbald.scale.scoring import ShardedLearner, score_to_store
from batchbald.scale.store import shard_name

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'batchbald[ray]'")
psutil = pytest.importorskip("psutil", reason="psutil (a dependency of ray) is not installed")


def _tiny_config() -> dict:
    """``tests/experiments/factories.tiny_config`` (loaded by path: another test package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "experiments" / "factories.py"
    spec = importlib.util.spec_from_file_location("_factories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tiny_config()


MODEL = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(0)).eval()
INPUTS = torch.randn(240, 1, 28, 28, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # A loaded CI machine can take longer than Ray's default 60 s to register the node.
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "90")
    for attempt in range(3):  # the raylet gives its agents 15 s (ray-project/ray#65983)
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Local scoring of the whole pool, and a local store of it."""
    log_probs = predict_log_probs(MODEL, INPUTS, 6, generator=torch.Generator().manual_seed(5))
    path = tmp_path_factory.mktemp("local") / "store"
    score_to_store(
        MODEL, INPUTS, 6, path, generator=torch.Generator().manual_seed(5), shard_rows=16
    )
    return log_probs, path


def shard_bytes(path) -> list[bytes]:
    return [(path / shard_name(index)).read_bytes() for index in range(15)]


def test_ray_scoring_is_byte_identical_to_local(tmp_path, reference):
    log_probs, local = reference
    store = score_to_store(
        MODEL, INPUTS, 6, tmp_path / "ray", generator=torch.Generator().manual_seed(5),
        shard_rows=16, use_ray=True,
    )  # fmt: skip
    assert shard_bytes(tmp_path / "ray") == shard_bytes(local)
    assert np.array_equal(store.take(np.arange(240)).numpy(), log_probs.numpy())


def test_interrupted_scoring_resumes_from_the_last_complete_shard(tmp_path, reference, monkeypatch):
    _, local = reference
    calls = []
    original = scoring.score_shard

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the job is killed while scoring shard 3
        return original(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_shard", failing)
    path = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        score_to_store(
            MODEL, INPUTS, 6, path, generator=torch.Generator().manual_seed(5), shard_rows=16
        )
    assert sorted(read_json(path / "manifest.json")["shards"]) == ["0", "1"]  # call 1 probes C
    monkeypatch.setattr(scoring, "score_shard", original)
    score_to_store(
        MODEL, INPUTS, 6, path, generator=torch.Generator().manual_seed(5), shard_rows=16
    )
    assert shard_bytes(path) == shard_bytes(local)


def _kill_one_scoring_worker(stop: threading.Event) -> list[int]:
    """SIGKILL the first Ray worker seen running a scoring task (a process these tests started)."""
    killed: list[int] = []
    while not stop.is_set() and not killed:
        for process in psutil.process_iter(["pid", "cmdline"]):
            if "_score_remote" in " ".join(process.info["cmdline"] or []):
                os.kill(process.info["pid"], signal.SIGKILL)
                killed.append(process.info["pid"])
                break
        time.sleep(0.05)
    return killed


@pytest.mark.parametrize("retries", [ray_jobs.MAX_RETRIES, 0])
def test_a_worker_killed_mid_job(tmp_path, reference, monkeypatch, retries):
    """With retries the job finishes with every row; without, it fails with a named error and
    a second run resumes. Either way the finished store equals local scoring."""
    _, local = reference
    monkeypatch.setattr(ray_jobs, "MAX_RETRIES", retries)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=lambda: killed.extend(_kill_one_scoring_worker(stop)))
    killer.start()
    path = tmp_path / "store"
    try:
        score_to_store(
            MODEL,
            INPUTS,
            6,
            path,
            generator=torch.Generator().manual_seed(5),
            shard_rows=16,
            use_ray=True,
        )
        assert retries > 0
    except ClusterError as error:
        assert retries == 0 and "failed on Ray after 0 retries" in str(error)
        score_to_store(
            MODEL,
            INPUTS,
            6,
            path,
            generator=torch.Generator().manual_seed(5),
            shard_rows=16,
            use_ray=True,
        )
    finally:
        stop.set()
        killer.join()
    assert killed, "no scoring worker was seen running"
    assert shard_bytes(path) == shard_bytes(local)


def test_unreachable_ray_address_is_a_named_error(tmp_path):
    with pytest.raises(
        ClusterError, match=r"cannot reach the Ray cluster at --ray-address '127.0.0.1:9'"
    ):
        ray_jobs.connect("127.0.0.1:9")
    with pytest.raises(ClusterError, match="cannot reach the Ray cluster"):
        score_to_store(MODEL, INPUTS[:20], 2, tmp_path / "s", ray_address="127.0.0.1:9")


def test_the_loops_scoring_step_on_ray(tmp_path):
    """The tiny experiment's loop with pool scoring on Ray equals the local loop (every pick)."""
    config = config_from_dict(_tiny_config())
    spec = plan_trials([config], out_dir=tmp_path)[0]
    local = build_trial_loop(spec, config)
    sharded = build_trial_loop(spec, config)
    sharded.learner = ShardedLearner(sharded.learner, shard_rows=37)
    strip = lambda records: [{**r.to_dict(), "timings": None} for r in records]  # noqa: E731
    assert strip(sharded.run()) == strip(local.run())


def test_trial_backend_on_ray(tmp_path):
    """``--backend ray`` runs the trials as tasks on the running instance; results as local."""
    config = config_from_dict(_tiny_config())
    run_trials(plan_trials([config], out_dir=tmp_path / "ray"), backend="ray", jobs=1, quiet=True)
    run_trials(plan_trials([config], out_dir=tmp_path / "local"), jobs=1, quiet=True)
    assert [t.complete for t in load_trials([tmp_path / "ray"])] == [True, True]
    for method in ("bald_b3", "random_b3"):
        steps = [
            read_json(tmp_path / side / f"tiny/{method}/trial_0.json")["steps"]
            for side in ("ray", "local")
        ]
        for one in steps:
            for step in one:
                step.pop("timings")
        assert steps[0] == steps[1]


def test_score_command_on_local_ray_is_byte_identical_to_local(tmp_path, capsys):
    """``batchbald score --ray`` (the instance this module started) writes the local bytes."""
    from batchbald.cli import main
    from batchbald.models.weights import write_safetensors

    images = np.random.default_rng(0).integers(0, 255, (40, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "pool.npz", images=images)
    write_safetensors(MODEL.state_dict(), tmp_path / "cnn.safetensors")
    common = ["score", f"npz:{tmp_path / 'pool.npz'}", "--model", "mnist_cnn", "--weights",
              str(tmp_path / "cnn.safetensors"), "--num-classes", "10", "--k", "4",
              "--shard-rows", "8"]  # fmt: skip
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "ray"), "--ray"]) == 0
    assert "on local Ray" in capsys.readouterr().out
    for index in range(5):
        name = shard_name(index)
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    manifest = (tmp_path / "ray" / "manifest.json").read_text()
    assert manifest == (tmp_path / "local" / "manifest.json").read_text()


def test_bad_input_found_by_a_task_is_one_named_line(tmp_path, capsys):
    """An unreadable image met by a Ray task: the task's own error, one line, exit 2."""
    from PIL import Image

    from batchbald.cli import main
    from batchbald.models.weights import write_safetensors

    images = np.random.default_rng(0).integers(0, 255, (24, 28, 28)).astype(np.uint8)
    for row, pixels in enumerate(images):
        Image.fromarray(pixels).save(tmp_path / f"{row:02d}.png")
    (tmp_path / "23.png").write_bytes(b"not a png")
    write_safetensors(MODEL.state_dict(), tmp_path / "cnn.safetensors")
    args = ["score", f"folder:{tmp_path}", "--model", "mnist_cnn", "--weights",
            str(tmp_path / "cnn.safetensors"), "--num-classes", "10", "--k", "2",
            "--shard-rows", "8", "--out", str(tmp_path / "store"), "--ray"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "shard 2: SOURCE" in err and "item '23.png': not an image Pillow can read" in err
