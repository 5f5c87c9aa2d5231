"""``batchbald score``: a pool scored into a store by the CLI equals the library's scoring; an
interrupted job resumes; bad input is one line on stderr and exit 2. (The same command on a
local Ray instance is compared byte for byte in ``test_ray.py``.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from batchbald.cli import main
from batchbald.data.loading import normalise_images
from batchbald.models import build_model, predict_log_probs
from batchbald.models.weights import write_safetensors
from batchbald.scale import open_store, scoring, writer

K, SEED = 3, 7


@pytest.fixture
def pool_and_weights(tmp_path):
    """An .npz pool of 30 random 28×28 images and the weights of an MNIST CNN."""
    images = np.random.default_rng(0).integers(0, 255, (30, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "pool.npz", images=images)
    model = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(0))
    write_safetensors(model.state_dict(), tmp_path / "cnn.safetensors")
    return images, model.eval(), tmp_path


def score_args(tmp_path, out: str, *extra: str) -> list[str]:
    return [
        "score", f"npz:{tmp_path / 'pool.npz'}", "--out", str(tmp_path / out), "--model",
        "mnist_cnn", "--weights", str(tmp_path / "cnn.safetensors"), "--num-classes", "10",
        "--k", str(K), "--seed", str(SEED), "--shard-rows", "8", *extra,
    ]  # fmt: skip


def store_bytes(path) -> list[bytes]:
    return [part.path.read_bytes() for part in open_store(path).parts]


def test_score_writes_what_predict_log_probs_returns(pool_and_weights, capsys):
    images, model, tmp_path = pool_and_weights
    assert main(score_args(tmp_path, "store")) == 0
    out = capsys.readouterr().out
    assert "scored 30 items × K = 3 × C = 10" in out and "4 of 4 shards written now" in out
    store = open_store(tmp_path / "store")
    inputs = normalise_images(images, 0.1307, 0.3081)
    expected = predict_log_probs(model, inputs, K, generator=torch.Generator().manual_seed(SEED))
    assert torch.equal(store.take(np.arange(30)), expected)
    ids = (tmp_path / "store" / "items.txt").read_text().split()
    assert ids[:2] == ["row-00000000", "row-00000001"] and len(ids) == 30


def test_acquire_runs_on_the_scored_store(pool_and_weights, capsys):
    _, _, tmp_path = pool_and_weights
    assert main(score_args(tmp_path, "store")) == 0
    picks = tmp_path / "picks.json"
    args = ["acquire", str(tmp_path / "store"), "--method", "batchbald", "--batch-size", "3"]
    assert main([*args, "--out", str(picks)]) == 0
    assert len(json.loads(picks.read_text())["indices"]) == 3


def test_an_interrupted_job_resumes_from_the_last_complete_shard(pool_and_weights, monkeypatch):
    _, _, tmp_path = pool_and_weights
    assert main(score_args(tmp_path, "whole")) == 0
    write, written = writer.StoreWriter.write, []

    def interrupted(self, index, log_probs):
        if len(written) == 2:
            raise KeyboardInterrupt  # Ctrl-C (or a kill) after two complete shards
        write(self, index, log_probs)
        written.append(index)

    monkeypatch.setattr(writer.StoreWriter, "write", interrupted)
    assert main(score_args(tmp_path, "resumed")) == 130
    assert writer.pending_shards(tmp_path / "resumed") == 2
    monkeypatch.setattr(writer.StoreWriter, "write", write)
    scored, shard = [], scoring.score_shard
    monkeypatch.setattr(
        scoring, "score_shard", lambda *args: scored.append(len(args[1])) or shard(*args)
    )
    assert main(score_args(tmp_path, "resumed")) == 0
    assert scored == [1, 8, 6]  # the layout probe, then only the two missing shards
    assert store_bytes(tmp_path / "resumed") == store_bytes(tmp_path / "whole")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_unreachable_ray_address_is_one_line(pool_and_weights, capsys):
    _, _, tmp_path = pool_and_weights
    assert main(score_args(tmp_path, "store", "--ray-address", "127.0.0.1:9")) == 2
    err = one_error_line(capsys)
    assert (
        "batchbald score: error: cannot reach the Ray cluster at --ray-address '127.0.0.1:9'" in err
    )
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--model", None, "score needs one model: --campaign PROJECT, or --model NAME"),
        ("--weights", "missing.safetensors", "--weights file 'missing.safetensors' does not"),
        ("--model", "no_such_net", "--model must be a model name (embeddings_mlp, emnist_cnn"),
        ("SOURCE", "npz:missing.npz", "SOURCE 'npz:missing.npz':"),
        ("SOURCE", "idx:missing-idx3-ubyte", "missing-idx3-ubyte"),
        ("SOURCE", "npy:missing.npy", "SOURCE 'npy:missing.npy': features file"),
        ("--ray-address", "nonsense", "--ray-address must be host:port"),
    ],
)
def test_bad_input_is_one_line(pool_and_weights, capsys, monkeypatch, flag, value, message):
    _, _, tmp_path = pool_and_weights
    monkeypatch.chdir(tmp_path)
    args = score_args(tmp_path, "store")
    if flag == "SOURCE":
        args[1] = value
    elif value is None:
        del args[args.index(flag) : args.index(flag) + 2]
    elif flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    assert main(args) == 2
    assert message in one_error_line(capsys)


def test_embeddings_npy_source(tmp_path):
    features = torch.randn(12, 5, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "features.npy", features.numpy())
    model = build_model("embeddings_mlp", 4, input_shape=(5,), generator=torch.Generator())
    torch.save(model.state_dict(), tmp_path / "mlp.pt")
    args = ["score", f"npy:{tmp_path / 'features.npy'}", "--out", str(tmp_path / "store"),
            "--model", "embeddings_mlp", "--weights", str(tmp_path / "mlp.pt"),
            "--num-classes", "4", "--k", "2", "--shard-rows", "5"]  # fmt: skip
    assert main(args) == 0
    expected = predict_log_probs(
        model.eval(), features, 2, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(open_store(tmp_path / "store").take(np.arange(12)), expected)


def test_campaign_model_scores_the_campaign_pool(tmp_path, capsys):
    """A campaign's latest trained model (after one propose) scores its own pool."""
    from batchbald.campaign import Campaign
    from batchbald.scale.models_to_score import campaign_model

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 40)
    images = rng.integers(0, 60, (40, 28, 28)).astype(np.uint8)
    for row, label in enumerate(truth):
        images[row, 9 * label : 9 * label + 9, :] = 220  # a bar whose position is the class
    path, project = tmp_path / "pool.npz", tmp_path / "project"
    np.savez(path, images=images)
    fast = {"training": {"epoch_size": 64, "max_epochs": 2, "patience": 1},
            "regime": {"fixed_epochs": 2, "min_holdout_labels": 8}}  # fmt: skip
    campaign = Campaign.init(
        project, source=f"npz:{path}", classes=["a", "b", "c"], k=4, method="bald", **fast
    )
    assert main(["score", "--campaign", str(project), "--out", str(tmp_path / "early")]) == 2
    assert "has no trained model yet" in one_error_line(capsys)
    for _ in range(2):  # round 1 has no labels to train on; round 2's model is stored
        for item_id in campaign.propose(batch_size=8).item_ids:
            campaign.record(item_id, "abc"[truth[int(item_id[4:])]], "tester")
    campaign.close()
    assert main(["score", "--campaign", str(project), "--out", str(tmp_path / "store")]) == 0
    found = campaign_model(project)
    expected = predict_log_probs(
        found.model, normalise_images(images, 0.1307, 0.3081), 4,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert torch.equal(open_store(tmp_path / "store").take(np.arange(40)), expected)


def _png_folder(tmp_path, images):
    from PIL import Image

    folder = tmp_path / "pngs"
    for row, pixels in enumerate(images):
        (folder / ("sub" if row % 2 else "")).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / ("sub" if row % 2 else "") / f"{row:03d}.png")
    return folder


def test_image_folder_is_decoded_shard_by_shard(pool_and_weights, monkeypatch):
    """A folder pool is decoded per shard (never whole), with the eager path's results."""
    from batchbald.data import pool_images

    images, model, tmp_path = pool_and_weights
    folder = _png_folder(tmp_path, images)
    decoded: list[int] = []
    original = pool_images.normalise_pixels

    def counting(pixels, fmt):
        decoded.append(len(pixels))
        return original(pixels, fmt)

    monkeypatch.setattr("batchbald.scale.pool_inputs.normalise_pixels", counting)
    args = score_args(tmp_path, "store")
    args[1] = f"folder:{folder}"
    assert main(args) == 0
    assert max(decoded) == 8  # one shard at a time (and one row to learn C)
    ids = (tmp_path / "store" / "items.txt").read_text().split()
    rows = [int(item_id.rsplit("/", 1)[-1][:3]) for item_id in ids]
    inputs = normalise_images(images[rows], 0.1307, 0.3081)
    expected = predict_log_probs(model, inputs, K, generator=torch.Generator().manual_seed(SEED))
    assert torch.equal(open_store(tmp_path / "store").take(np.arange(30)), expected)


def test_unreadable_image_stops_at_its_shard_and_resumes(pool_and_weights, capsys):
    images, _, tmp_path = pool_and_weights
    folder = _png_folder(tmp_path, images)
    bad = folder / "sub" / "029.png"  # sorted last: the fourth shard
    good = bad.read_bytes()
    bad.write_bytes(b"not a png")
    args = score_args(tmp_path, "store")
    args[1] = f"folder:{folder}"
    assert main(args) == 2
    line = one_error_line(capsys)
    assert "item 'sub/029.png': not an image Pillow can read" in line
    assert "the shards already written are kept" in line
    bad.write_bytes(good)
    assert main(args) == 0
    assert "1 of 4 shards written now" in capsys.readouterr().out
