"""Lazy greedy = full greedy on a realistic pool: MC-dropout predictions of a trained MNIST CNN.

The random and synthetic pools of test_greedy_fixtures.py are complemented here by the pool the
papers acquire from: real MNIST digits scored with K consistent dropout masks by the paper's CNN
after a short training on 200 labels (skipped when the shared MNIST copy is absent).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from batchbald.acquisition import batch_evaluation_bald, batchbald
from batchbald.data import load_dataset
from batchbald.models import build_model
from batchbald.models.predict import predict_log_probs
from batchbald.training import TrainingConfig, train_model

DATA_DIR = Path(os.environ.get("BATCHBALD_DATA_DIR", Path(__file__).parents[3] / "shared/datasets"))


def _trained_pool(mnist, seed: int) -> torch.Tensor:
    """``[600, 20, 10]`` float64 log-probs of a CNN trained for 2 short epochs on 200 digits."""
    train = mnist.train.subset(list(range(200)))
    validation = mnist.train.subset(list(range(200, 300)))
    pool = mnist.train.inputs[1000:1600]
    model = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(seed))
    config = TrainingConfig(epoch_size=512, max_epochs=2, channels_last=False)
    train_model(model, train, validation, config, generator=torch.Generator().manual_seed(seed))
    masks = torch.Generator().manual_seed(seed + 1)
    return predict_log_probs(model, pool, 20, generator=masks).double()


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    if not (DATA_DIR / "mnist").is_dir():
        pytest.skip(f"MNIST is not available in {DATA_DIR}")
    cache = tmp_path_factory.mktemp("mnist-cache")
    return load_dataset("mnist", data_dir=DATA_DIR, download=False, cache=cache)


@pytest.fixture(scope="module")
def pools(mnist):
    """The training model's pool and a second model's (the evaluation model)."""
    return _trained_pool(mnist, seed=0), _trained_pool(mnist, seed=7)


@pytest.mark.filterwarnings("ignore::batchbald.errors.JointMutualInformationSaturationWarning")
@pytest.mark.parametrize("num_samples", [10**4, 300])  # exact throughout; sampled from step 2
def test_lazy_equals_full_greedy_on_a_trained_models_pool(pools, num_samples):
    train_pool, evaluation_pool = pools
    for rule, args in (
        (batchbald, (train_pool,)),
        (batch_evaluation_bald, (train_pool, evaluation_pool)),
    ):
        results = [
            rule(
                *args,
                6,
                num_samples=num_samples,
                lazy=lazy,
                generator=torch.Generator().manual_seed(3),
            )
            for lazy in (True, False)
        ]
        assert results[0].indices.tolist() == results[1].indices.tolist(), rule.__name__
        torch.testing.assert_close(results[0].scores, results[1].scores, rtol=0, atol=1e-10)
