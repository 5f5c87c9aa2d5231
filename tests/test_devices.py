"""A device the machine does not have is a named error when the setting is read (issue 25).

``batchbald.devices.device_problem`` is the one check: ``TrainingConfig`` (so experiment
configs' ``[training] device`` and campaigns) calls it. ``cuda:99`` is missing on any machine
this runs on; ``cuda`` is made unavailable with monkeypatch so the test means the same with and
without a GPU.
"""

from __future__ import annotations

import pytest
import torch

from batchbald.devices import available_devices, device_problem
from batchbald.errors import ConfigError
from batchbald.training import TrainingConfig

from .experiments.factories import tiny_config, to_toml


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cpu_is_always_there():
    assert available_devices()[0] == "cpu" and device_problem("cpu") is None
    assert device_problem(torch.device("cpu")) is None


@pytest.mark.parametrize(
    ("device", "problem"),
    [
        ("gpu0", r"^not a torch device string \(such as 'cpu', 'cuda', 'cuda:1'\)$"),
        (3.5, r"^not a torch device string"),
        ("cuda:99", r"^(this machine has \d CUDA device\(s\)|torch finds no CUDA device here)"),
        ("xla", r"^torch cannot train on 'xla' here$"),
    ],
)
def test_problems_are_named(device, problem):
    assert device_problem(device) is not None
    assert __import__("re").match(problem, device_problem(device))


def test_cuda_without_a_gpu(no_cuda):
    assert device_problem("cuda") == "torch finds no CUDA device here"
    assert "cuda:0" not in available_devices()


def test_training_config_names_the_device(no_cuda):
    with pytest.raises(
        ConfigError,
        match=r"^TrainingConfig\.device must be a device this machine has \(cpu[^)]*\); got "
        r"'cuda': torch finds no CUDA device here$",
    ):
        TrainingConfig(device="cuda")


def test_config_load_names_the_device(tmp_path, no_cuda):
    from batchbald.experiments.config import load_config

    table = tiny_config()
    table["training"]["device"] = "cuda"
    path = tmp_path / "gpu.toml"
    path.write_text(to_toml(table), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"gpu\.toml: training: TrainingConfig\.device must be a device this "
    ):
        load_config(path)


def test_cli_run_one_line(tmp_path, capsys):
    from batchbald.cli import main

    table = tiny_config()
    table["training"]["device"] = "cuda:99"
    path = tmp_path / "gpu.toml"
    path.write_text(to_toml(table), encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"batchbald run: error: {path}: training: TrainingConfig.device must ")
    assert "got 'cuda:99'" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_campaign_init_names_the_device(tmp_path, capsys):
    """Campaigns read [training] through the same TrainingConfig: one line, exit 2."""
    import numpy as np

    from batchbald.cli import main

    arrays = tmp_path / "pool.npz"
    np.savez(arrays, images=np.zeros((4, 28, 28), np.uint8))
    argv = ["campaign", "init", str(tmp_path / "proj"), "--arrays", str(arrays)]
    assert main([*argv, "--classes", "a,b", "--training", "device=cuda:99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald campaign: error: TrainingConfig.device must be a device ")
    assert err.count("\n") == 1
