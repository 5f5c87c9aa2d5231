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


@pytest.mark.parametrize("acquirer", ["badge", "coreset"])
def test_generic_learner_gives_feature_acquirers_their_embeddings(acquirer):
    # Issue 24 with the generic learner: a ResNet-18 with MC dropout on its head, one step.
    from batchbald.acquisition import get_acquirer
    from batchbald.data import ActiveLearningData
    from batchbald.experiments.synthetic import synthetic_dataset
    from batchbald.loop import ActiveLearningLoop, DatasetOracle, LoopGenerators, LoopSettings
    from batchbald.models import ModelSpec
    from batchbald.training import TrainingConfig
    from batchbald.training.generic import GenericLearner

    splits = synthetic_dataset(
        num_train=60, num_test=20, generator=torch.Generator().manual_seed(0)
    )
    learner = GenericLearner(
        ModelSpec(kind="resnet18", head_dropout=0.5),
        10,
        TrainingConfig(epoch_size=16, max_epochs=1, patience=1, batch_size=8),
        test_k=2,
    )
    loop = ActiveLearningLoop(
        data=splits.train, test=splits.test,
        split=ActiveLearningData(60, labelled_indices=range(10), validation_indices=range(10, 20)),
        learner=learner, acquirer=get_acquirer(acquirer), oracle=DatasetOracle(splits.train.labels),
        settings=LoopSettings(batch_size=3, k=2, label_budget=3),
        generators=LoopGenerators.from_seed(0),
    )  # fmt: skip
    records = loop.run()
    assert len(records[0].acquired["indices"]) == 3 and records[-1].stop_reason == "label_budget"
