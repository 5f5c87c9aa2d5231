"""Every model kind through the active-learning loop and ``batchbald run``; config errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from batchbald.acquisition import get_acquirer
from batchbald.cli import main
from batchbald.data import ActiveLearningData
from batchbald.data.embeddings import write_demo_embeddings
from batchbald.errors import ConfigError
from batchbald.experiments.config import config_from_dict
from batchbald.experiments.synthetic import synthetic_dataset
from batchbald.loop import ActiveLearningLoop, DatasetOracle, LoopGenerators, LoopSettings
from batchbald.models import ModelSpec
from batchbald.training import TrainingConfig
from batchbald.training.generic import GenericLearner

HERE = Path(__file__).parent
FACTORY = "nets:make_small_cnn"

SPECS = {
    "module_mc_dropout": dict(kind="module", factory=FACTORY, head_dropout=0.5),
    "module_last_layer_dropout": dict(
        kind="module", factory=FACTORY, posterior="last_layer_dropout"
    ),
    "module_last_layer_laplace": dict(
        kind="module", factory=FACTORY, posterior="last_layer_laplace"
    ),
    "ensemble": dict(kind="ensemble", members=3, member="module", factory=FACTORY),
    "resnet18_last_layer": dict(kind="resnet18", posterior="last_layer_dropout"),
}


@pytest.fixture(autouse=True)
def _factories_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _run_loop(spec: ModelSpec, seed: int = 0):
    splits = synthetic_dataset(
        num_train=80, num_test=40, generator=torch.Generator().manual_seed(0)
    )
    split = ActiveLearningData(80, labelled_indices=range(10), validation_indices=range(10, 20))
    training = TrainingConfig(epoch_size=32, max_epochs=2, patience=1, batch_size=16)
    learner = GenericLearner(spec, 10, training, test_k=3)
    loop = ActiveLearningLoop(
        data=splits.train, test=splits.test, split=split, learner=learner,
        acquirer=get_acquirer("batchbald"), oracle=DatasetOracle(splits.train.labels),
        settings=LoopSettings(batch_size=2, k=3, label_budget=2),
        generators=LoopGenerators.from_seed(seed),
    )  # fmt: skip
    return loop.run(), learner


@pytest.mark.parametrize("name", sorted(SPECS))
def test_loop_runs_and_is_deterministic(name, tmp_path):
    options = dict(SPECS[name])
    if "last_layer" in options.get("posterior", ""):  # a trained backbone comes from a file
        from nets import make_small_cnn

        from batchbald.models import ResNet18, write_safetensors

        net = ResNet18(10, in_channels=1) if options["kind"] == "resnet18" else make_small_cnn(10)
        write_safetensors(net.state_dict(), tmp_path / "w.safetensors")
        options["weights"] = str(tmp_path / "w.safetensors")
    spec = ModelSpec(**options)
    first, learner = _run_loop(spec)
    assert [r.train_size for r in first] == [10, 12] and len(first[0].acquired["indices"]) == 2
    second, _ = _run_loop(spec)
    assert first[0].acquired == second[0].acquired
    assert first[-1].test_accuracy == second[-1].test_accuracy
    if spec.posterior != "mc_dropout":  # the frozen backbone ran once per input over the trial
        assert learner.cache.computed == len(learner.cache) == 80 + 40


def _config(tmp_path: Path, model: object, dataset: str = "synthetic") -> Path:
    table = {
        "name": "tiny", "model": model,
        "data": {"dataset": dataset, "initial": "balanced", "initial_per_class": 1,
                 "validation_size": 10, "train_subsample": 60, "test_subsample": 30},
        "training": {"epoch_size": 16, "max_epochs": 1, "patience": 1},
        "scoring": {"k": 2, "test_k": 2}, "stop": {"label_budget": 2},
        "methods": [{"acquirer": "bald", "batch_size": 2}],
    }  # fmt: skip
    config_from_dict(table)  # valid
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()
             if not isinstance(value, (dict, list))]  # fmt: skip
    for key in ("model", "data", "training", "scoring", "stop"):
        if isinstance(table[key], dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in table[key].items()]
    lines += ["[[methods]]", 'acquirer = "bald"', "batch_size = 2"]
    path = tmp_path / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "model",
    [
        {"kind": "module", "factory": FACTORY, "posterior": "last_layer_laplace"},
        {"kind": "resnet18", "head_dropout": 0.5},
        {"kind": "ensemble", "members": 2, "member": "mlp", "hidden": 16},
    ],
    ids=["laplace", "resnet18_mc_dropout", "ensemble"],
)
def test_batchbald_run_with_a_model_table(tmp_path, model):
    path = _config(tmp_path, model)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1"]) == 0
    trial = json.loads((tmp_path / "out/tiny/bald_b2/trial_0.json").read_text())
    assert trial["status"] == "complete" and len(trial["steps"]) == 2


def test_batchbald_run_on_embeddings(tmp_path):
    folder = write_demo_embeddings(tmp_path / "emb", num_train=200, num_test=60, dim=8,
                                   generator=torch.Generator().manual_seed(0))  # fmt: skip
    path = _config(tmp_path, {"kind": "embeddings_mlp", "hidden": 32}, f"embeddings:{folder}")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1"]) == 0
    trial = json.loads((tmp_path / "out/tiny/bald_b2/trial_0.json").read_text())
    assert trial["status"] == "complete" and trial["dataset_size"] == 60


def test_list_shows_model_kinds(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for kind in ("resnet18", "module", "ensemble", "embeddings_mlp", "mnist_cnn"):
        assert f"  {kind} " in out


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"kind": "vit"}, "model.kind must be one of embeddings_mlp, emnist_cnn, ensemble"),
        ({"kind": "resnet18", "posterior": "swag"}, "model.posterior must be one of mc_dropout"),
        ({"kind": "ensemble", "members": 1}, "model.members must be an int ≥ 2; got 1"),
        (
            {"kind": "module", "factory": "nope"},
            "model.factory must look like 'package.module:function'",
        ),
        ({"kind": "resnet18", "colour": 1}, "model.colour: unknown key; valid keys at model: kind"),
        (
            {"kind": "mnist_cnn", "posterior": "last_layer_laplace"},
            "must be 'mc_dropout' for mnist_cnn",
        ),
        ("vit", "model must be one of"),
    ],
)
def test_config_errors(model, message):
    table = {"name": "x", "model": model, "methods": [{"acquirer": "bald", "batch_size": 1}]}
    with pytest.raises(ConfigError, match=message):
        config_from_dict(table)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"kind": "resnet18", "weights": "missing.safetensors", "posterior": "last_layer_dropout"},
         "model.weights file 'missing.safetensors' does not exist"),
        ({"kind": "module", "factory": "nets:nothing"}, "'nets' has no callable 'nothing'"),
        ({"kind": "module", "factory": "no_such_pkg:make"}, "cannot import 'no_such_pkg'"),
        ({"kind": "ensemble", "members": 2, "member": "module", "factory": FACTORY},
         "scoring.k must be ≤ model.members = 2"),
    ],
)  # fmt: skip
def test_cli_config_errors_are_one_line(tmp_path, capsys, model, message):
    path = _config(tmp_path, {"kind": "module", "factory": FACTORY, "head_dropout": 0.5})
    text = path.read_text().replace('factory = "nets:make_small_cnn"\nhead_dropout = 0.5\n', "")
    text = text.replace(
        'kind = "module"\n', "".join(f"{k} = {json.dumps(v)}\n" for k, v in model.items())
    )
    path.write_text(text.replace("k = 2\n", "k = 3\n", 1))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"kind": "resnet18"}, "ResNet18 has no nn.Dropout"),
        ({"kind": "module", "factory": "nets:make_tuple_output"}, r"output must be float \[B, C\]"),
    ],
)
def test_cli_model_errors_fail_the_trial_without_traceback(tmp_path, capsys, model, message):
    path = _config(tmp_path, model)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and re.search(f"trial_0: failed: .*{message}", err), err
