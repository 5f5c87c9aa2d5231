"""Embedding pools (.npy, memory-mapped) with the MLP; optimiser, freezing and class weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from batchbald.data import ImageData
from batchbald.data.embeddings import load_embeddings, write_demo_embeddings
from batchbald.errors import ConfigError, DataError, InvalidInputError, ModelError
from batchbald.models import EmbeddingsMLP, build_model, predict_embeddings, predict_log_probs
from batchbald.training import TrainingConfig, train_model
from batchbald.training.regime import class_weight_tensor, make_optimizer


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_embeddings_are_memory_mapped_and_scored(tmp_path):
    folder = write_demo_embeddings(tmp_path, num_train=50, num_test=20, dim=6, generator=_g(0))
    splits = load_embeddings(folder)
    assert splits.train.inputs.shape == (50, 6) and splits.test.num_classes == 10
    assert isinstance(np.load(folder / "train_features.npy", mmap_mode="r"), np.memmap)
    model = EmbeddingsMLP(6, 10, hidden=8, generator=_g(1))
    a = predict_log_probs(model, splits.train.inputs, 4, batch_size=50, generator=_g(2))
    b = predict_log_probs(model, splits.train.inputs, 4, batch_size=3, generator=_g(2))
    # Equal up to float32 rounding: BLAS rounds tiny [B·K, 8] @ [8, 10] products differently
    # for rows at other positions of a chunk (measured: ≤ 5e-7).
    assert torch.allclose(a, b, atol=2e-6, rtol=0)
    assert predict_embeddings(model, splits.train.inputs).shape == (50, 8)


def test_bad_embedding_files(tmp_path):
    with pytest.raises(DataError, match=r"train_features.npy' does not exist"):
        load_embeddings(tmp_path)
    write_demo_embeddings(tmp_path, num_train=10, num_test=5, dim=3, generator=_g(0))
    np.save(tmp_path / "train_features.npy", np.zeros((10, 3), dtype=np.float64))
    with pytest.raises(InvalidInputError, match="must be float32 \\[N, D\\]; got float64"):
        load_embeddings(tmp_path)
    with pytest.raises(ModelError, match=r"expects inputs \[B, 3\]; got \(2, 4\)"):
        EmbeddingsMLP(3, 2)(torch.zeros(2, 4), 1)


def _data(n: int, seed: int) -> ImageData:
    return ImageData(torch.randn(n, 6, generator=_g(seed)), torch.arange(n) % 3, 3)


def test_freeze_sgd_and_class_weights():
    model = build_model("embeddings_mlp", 3, input_shape=(6,), generator=_g(0), hidden=8)
    before = model.hidden_layers[0].weight.clone()
    config = TrainingConfig(optimizer="sgd", lr=0.1, epoch_size=16, max_epochs=2,
                            freeze=("hidden_layers",), class_weights="balanced")  # fmt: skip
    train_model(model, _data(12, 1), _data(6, 2), config, generator=_g(3))
    assert torch.equal(model.hidden_layers[0].weight, before)
    assert isinstance(make_optimizer(model, config), torch.optim.SGD)
    weights = class_weight_tensor(config, torch.tensor([0, 0, 0, 1]), 3)
    assert weights.tolist() == pytest.approx([4 / 9, 4 / 3, 1.0])


def test_bad_regimes():
    with pytest.raises(ConfigError, match="optimizer must be one of adam, sgd; got 'lbfgs'"):
        TrainingConfig(optimizer="lbfgs")
    with pytest.raises(ConfigError, match="class_weights must be 'balanced' or a list"):
        TrainingConfig(class_weights="inverse")
    model = build_model("embeddings_mlp", 3, input_shape=(6,), hidden=8)
    with pytest.raises(InvalidInputError, match="freeze prefix 'backbone' matches no parameter"):
        make_optimizer(model, TrainingConfig(freeze=("backbone",)))
    with pytest.raises(InvalidInputError, match="one entry per class \\(C = 3\\); got 2"):
        class_weight_tensor(TrainingConfig(class_weights=(1.0, 2.0)), torch.tensor([0]), 3)
