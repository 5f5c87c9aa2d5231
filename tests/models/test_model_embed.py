"""The paper CNNs' penultimate features (``embed``) and their streamed prediction."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from batchbald.models import (
    EMNISTBayesianCNN,
    MNISTBayesianCNN,
    predict_deterministic,
    predict_embeddings,
)


@pytest.mark.parametrize(("cls", "width"), [(MNISTBayesianCNN, 128), (EMNISTBayesianCNN, 512)])
def test_last_layer_of_embed_is_the_deterministic_network(cls, width):
    model = cls(generator=torch.Generator().manual_seed(0))
    inputs = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    features = predict_embeddings(model, inputs)
    assert features.shape == (5, width) and features.dtype == torch.float32
    assert (features >= 0).all()  # after ReLU
    log_probs = F.log_softmax(model.fc2(features), dim=-1)
    torch.testing.assert_close(
        log_probs, predict_deterministic(model, inputs)[:, 0], atol=1e-5, rtol=0
    )


def test_chunk_size_does_not_change_features():
    model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(0))
    inputs = torch.randn(70, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    assert torch.equal(
        predict_embeddings(model, inputs, batch_size=7), predict_embeddings(model, inputs)
    )


def test_restores_training_mode():
    model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(0)).train()
    predict_embeddings(model, torch.zeros(2, 1, 28, 28))
    assert model.training
