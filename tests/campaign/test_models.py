"""Campaigns take every model kind ``batchbald run`` configs take, over images or embeddings;
a model that cannot run is a named error at ``init``, never at the first ``propose``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from batchbald.campaign import Campaign
from batchbald.cli import main
from batchbald.errors import ConfigError, ModelError, UnknownNameError, WeightsError
from batchbald.models import EmbeddingsMLP, write_safetensors

from .helpers import FAST, make_pool

NETS = Path(__file__).parents[1] / "models"


@pytest.fixture(autouse=True)
def _factories_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(NETS))  # tests/models/nets.py: user-style factories


def _features(folder: Path, rows: int = 30, dim: int = 8) -> Path:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, rows)
    features = rng.normal(size=(3, dim))[labels] + rng.normal(size=(rows, dim))
    path = folder / "features.npy"
    np.save(path, features.astype(np.float32))
    return path


def _two_rounds(campaign: Campaign) -> None:
    """Propose (untrained), label the round, propose again (trained on the labels)."""
    first = campaign.propose()
    for position, item_id in enumerate(first.item_ids):
        campaign.record(item_id, "abc"[position % 3], "ann")
    second = campaign.propose()
    assert second.model_version is not None and set(second.item_ids).isdisjoint(first.item_ids)


@pytest.mark.parametrize(
    ("model", "k"),
    [
        ({"kind": "resnet18", "posterior": "last_layer_dropout"}, 4),
        ({"kind": "module", "factory": "nets:make_small_cnn", "posterior": "last_layer_laplace"},
         4),
        ({"kind": "module", "factory": "nets:make_small_cnn", "head_dropout": 0.5}, 4),
        ({"kind": "ensemble", "members": 2, "member": "module", "factory": "nets:make_small_cnn"},
         2),
    ],
    ids=["resnet18_last_layer", "laplace", "module", "ensemble"],
)  # fmt: skip
def test_image_campaigns_take_every_kind(tmp_path, model, k):
    pool, _ = make_pool(tmp_path, size=16)
    settings = {**FAST, "k": k, "model": model}
    campaign = Campaign.init(tmp_path / "p", source=f"npz:{pool}", classes="abc", **settings)
    _two_rounds(campaign)
    assert Campaign.open(tmp_path / "p").settings.model == model


@pytest.mark.parametrize(
    ("model", "k"),
    [({"kind": "embeddings_mlp", "hidden": 16}, 4),
     ({"kind": "ensemble", "members": 3, "member": "mlp", "hidden": 8}, 3)],
    ids=["embeddings_mlp", "ensemble"],
)  # fmt: skip
def test_embeddings_campaigns(tmp_path, model, k):
    path = _features(tmp_path)
    settings = {**FAST, "k": k, "model": model}
    campaign = Campaign.init(tmp_path / "p", source=f"features:{path}", classes="abc", **settings)
    assert campaign.status()["pool"]["present"] == 30
    _two_rounds(campaign)
    payload, media = campaign.image_bytes("row-00000003")
    assert media == "image/svg+xml" and b"row-00000003" in payload and b"8-d" in payload


def _mlp_weights(tmp_path: Path, dim: int) -> str:
    net = EmbeddingsMLP(dim, 3, hidden=16, generator=torch.Generator().manual_seed(0))
    path = tmp_path / f"mlp{dim}.safetensors"
    write_safetensors(net.state_dict(), path)
    return str(path)


def test_weights_that_fit_are_loaded(tmp_path):
    path = _features(tmp_path)
    model = {"kind": "embeddings_mlp", "hidden": 16, "weights": _mlp_weights(tmp_path, 8)}
    Campaign.init(tmp_path / "p", source=f"features:{path}", classes="abc", model=model, **FAST)


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        ("nope", UnknownNameError, "model must be one of "),
        ({"kind": "nope"}, UnknownNameError, "model must be one of "),
        ({"kind": "embeddings_mlp", "size": 3}, ConfigError, "model.size: unknown key"),
        ({"hidden": 3}, ConfigError, "model.kind: missing"),
        ({"kind": "embeddings_mlp", "weights": "gone.safetensors"}, ConfigError,
         "does not exist (nothing is downloaded)"),
        ({"kind": "embeddings_mlp", "hidden": 16, "weights": "{mlp5}"}, WeightsError,
         "does not fit EmbeddingsMLP: tensor 'hidden_layers.0.weight' has shape (16, 5) in the "
         "file but (16, 8) in the model"),
        ({"kind": "module", "factory": "nets:make_small_cnn"}, ModelError,
         "has no nn.Dropout"),
        ({"kind": "module", "factory": "no_such_module:make"}, ConfigError,
         "cannot import 'no_such_module'"),
        ({"kind": "ensemble", "members": 2, "member": "mlp"}, ConfigError,
         "k must be ≤ model.members = 2 for an ensemble"),
        ("mnist_cnn", ModelError, "model 'mnist_cnn' cannot take inputs of shape (8,)"),
    ],
)  # fmt: skip
def test_model_errors_are_named_at_init(tmp_path, model, error, message):
    path = _features(tmp_path)
    if isinstance(model, dict) and model.get("weights") == "{mlp5}":
        model = {**model, "weights": _mlp_weights(tmp_path, 5)}
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        Campaign.init(tmp_path / "p", source=f"features:{path}", classes="abc", model=model,
                      **FAST)  # fmt: skip
    assert not (tmp_path / "p" / "campaign.json").exists()


def test_relative_weights_are_kept_absolute(tmp_path, monkeypatch):
    path = _features(tmp_path)
    _mlp_weights(tmp_path, 8)
    monkeypatch.chdir(tmp_path)
    model = {"kind": "embeddings_mlp", "hidden": 16, "weights": "mlp8.safetensors"}
    campaign = Campaign.init("p", source=f"features:{path}", classes="abc", model=model, **FAST)
    assert campaign.settings.model["weights"] == str(tmp_path / "mlp8.safetensors")


FAST_FLAGS = ["--batch-size", "3", "--method", "bald", "--training", "epoch_size=32",
              "--training", "max_epochs=2", "--regime", "fixed_epochs=2"]  # fmt: skip


@pytest.mark.parametrize("form", ["inline", "toml", "json"])
def test_cli_model_spec_forms(tmp_path, capsys, form):
    path = _features(tmp_path)
    table = {"kind": "ensemble", "members": 3, "member": "mlp", "hidden": 8}
    spec = "kind=ensemble,members=3,member=mlp,hidden=8"
    if form == "toml":
        spec = str(tmp_path / "model.toml")
        Path(spec).write_text('[model]\nkind = "ensemble"\nmembers = 3\nmember = "mlp"\n'
                              "hidden = 8\n")  # fmt: skip
    elif form == "json":
        spec = str(tmp_path / "model.json")
        Path(spec).write_text(json.dumps(table))
    argv = ["campaign", "init", str(tmp_path / "p"), "--embeddings", str(path), "--classes",
            "a,b,c", "--model", spec, "--k", "3", *FAST_FLAGS]  # fmt: skip
    assert main(argv) == 0
    assert "created campaign" in capsys.readouterr().out
    assert Campaign.open(tmp_path / "p").settings.model == table
    assert main(["campaign", "propose", str(tmp_path / "p")]) == 0
    assert "round 1: 3 items by bald" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("kind=embeddings_mlp,weights=/nowhere/w.safetensors", "does not exist"),
        ("kind=embeddings_mlp,hidden", "inline form is key=value pairs"),
        ("{d}/missing.toml", "model: cannot read"),
        ("{d}/bad.json", "is not valid JSON"),
        ("resnet", "model must be one of"),
        ("kind=ensemble,members=2,member=mlp", "k must be ≤ model.members = 2"),
    ],
)  # fmt: skip
def test_cli_model_errors_are_one_line(tmp_path, capsys, spec, message):
    path = _features(tmp_path)
    (tmp_path / "bad.json").write_text("{kind: ")
    argv = ["campaign", "init", str(tmp_path / "p"), "--embeddings", str(path), "--classes",
            "a,b,c", "--model", spec.replace("{d}", str(tmp_path))]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald campaign: error: ") and message in err
    assert err.count("\n") == 1


def test_features_source_errors(tmp_path):
    from batchbald.data.sources import open_source
    from batchbald.errors import DataError, InvalidInputError

    np.save(tmp_path / "ints.npy", np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(InvalidInputError, match="must be a non-empty float32 array"):
        open_source(f"features:{tmp_path / 'ints.npy'}")
    with pytest.raises(DataError, match=r"must be an existing \.npy or \.npz file"):
        open_source(f"features:{tmp_path / 'none.npy'}")
    np.savez(tmp_path / "images.npz", images=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DataError, match="with a 'features' array"):
        open_source(f"features:{tmp_path / 'images.npz'}")
