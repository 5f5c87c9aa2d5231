"""The paper's CNNs: architecture, exact fast scoring path, seeded initialisation, registry."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from batchbald.errors import InvalidInputError, UnknownNameError
from batchbald.models import (
    EMNISTBayesianCNN,
    MNISTBayesianCNN,
    available_models,
    build_model,
    init_weights,
    mc_dropout_disabled,
    prepared_masks,
)

CNNS = [MNISTBayesianCNN, EMNISTBayesianCNN]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=_gen(seed))


def _reference_mnist(model: MNISTBayesianCNN, x: torch.Tensor, k: int) -> torch.Tensor:
    """Brute force: the whole network once per (image, mask), masks applied literally."""
    drops = (model.conv1_drop, model.conv2_drop, model.fc1_drop)
    shapes = ((32, 24, 24), (64, 8, 8), (128,))
    masks = [
        d.consistent_masks(s, dtype=x.dtype, device=x.device)
        for d, s in zip(drops, shapes, strict=True)
    ]
    out = torch.empty(x.shape[0], k, model.num_classes)
    for i in range(x.shape[0]):
        for j in range(k):
            h = model.conv1(x[i : i + 1]) * masks[0][j]
            h = F.relu(F.max_pool2d(h, 2))
            h = F.relu(F.max_pool2d(model.conv2(h) * masks[1][j], 2)).flatten(1)
            h = F.relu(model.fc1(h) * masks[2][j])
            out[i, j] = F.log_softmax(model.fc2(h), dim=1)[0]
    return out


@pytest.mark.parametrize(("cls", "classes"), [(MNISTBayesianCNN, 10), (EMNISTBayesianCNN, 47)])
def test_default_shapes_and_normalisation(cls, classes):
    model = cls(generator=_gen(0)).train()
    log_probs = model(_images(3), 4, generator=_gen(1))
    assert log_probs.shape == (3, 4, classes)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, 4))


@pytest.mark.parametrize("cls", CNNS)
def test_num_classes_parameter(cls):
    assert cls(7)(_images(2), 1).shape == (2, 1, 7)


@pytest.mark.parametrize("bad", [1, 0, 2.5, True])
def test_rejects_bad_num_classes(bad):
    with pytest.raises(InvalidInputError, match="num_classes must be an int ≥ 2"):
        MNISTBayesianCNN(bad)


def test_rejects_bad_input_shape_and_k():
    model = MNISTBayesianCNN()
    with pytest.raises(InvalidInputError, match=r"expects inputs of shape \[B, 1, 28, 28\]"):
        model(torch.zeros(2, 28, 28), 1)
    with pytest.raises(InvalidInputError, match="k \\(MC dropout samples\\) must be an int ≥ 1"):
        model(torch.zeros(2, 1, 28, 28), 0)


def test_paper_layer_sizes():
    mnist, emnist = MNISTBayesianCNN(), EMNISTBayesianCNN()
    assert (mnist.conv1.kernel_size, mnist.conv2.out_channels) == ((5, 5), 64)
    assert (mnist.fc1.in_features, mnist.fc1.out_features) == (1024, 128)
    assert (emnist.conv3.out_channels, emnist.fc1.in_features, emnist.fc1.out_features) == (
        128,
        2048,
        512,
    )
    assert all(layer.p == 0.5 for layer in mnist.dropout_layers())
    assert len(emnist.dropout_layers()) == 4


def test_mnist_fast_path_equals_brute_force():
    model = MNISTBayesianCNN(generator=_gen(0))
    x = _images(3)
    with torch.no_grad(), prepared_masks(model, 5, generator=_gen(1)):
        expected = _reference_mnist(model, x, 5)
        torch.testing.assert_close(model.scoring_log_probs(x, 5), expected, atol=1e-4, rtol=0)
        torch.testing.assert_close(model(x, 5), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("cls", CNNS)
@pytest.mark.parametrize("p", [0.5, 0.3])
def test_fast_path_equals_generic_forward(cls, p):
    model = cls(p=p, generator=_gen(2))
    x = _images(6, seed=3)
    with torch.no_grad(), prepared_masks(model, 9, generator=_gen(4)):
        fast, generic = model.scoring_log_probs(x, 9), model(x, 9)
    torch.testing.assert_close(fast, generic, atol=1e-4, rtol=0)


@pytest.mark.parametrize("cls", CNNS)
def test_fast_path_falls_back_when_dropout_disabled(cls):
    model = cls(generator=_gen(0)).eval()
    x = _images(2)
    with torch.no_grad(), mc_dropout_disabled(model):
        deterministic = model(x, 1)
        torch.testing.assert_close(model.scoring_log_probs(x, 3), deterministic.expand(2, 3, -1))


def test_deterministic_prefix_runs_once_per_input():
    model = MNISTBayesianCNN(generator=_gen(0))
    seen: list[int] = []
    model.conv1.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].shape[0]))
    model.train()(_images(3), 7, generator=_gen(1))
    with torch.no_grad(), prepared_masks(model, 7, generator=_gen(2)):
        model.scoring_log_probs(_images(3), 7)
    assert seen == [3, 3]


def test_training_forward_is_reproducible_and_stochastic():
    model = MNISTBayesianCNN(generator=_gen(0)).train()
    x = _images(2)
    first, second = model(x, 3, generator=_gen(1)), model(x, 3, generator=_gen(1))
    assert torch.equal(first, second)
    assert not torch.equal(first[:, 0], first[:, 1])  # fresh mask per (example, sample)


def test_seeded_init_ignores_global_rng():
    first = MNISTBayesianCNN(generator=_gen(7))
    torch.rand(1000)
    second = MNISTBayesianCNN(generator=_gen(7))
    third = MNISTBayesianCNN(generator=_gen(8))
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.fc1.weight, third.fc1.weight)


def test_init_weights_uses_default_bounds():
    model = init_weights(torch.nn.Sequential(torch.nn.Linear(100, 30)), _gen(0))
    weight = model[0].weight
    assert weight.abs().max() <= 0.1
    assert weight.abs().max() > 0.09


def test_registry():
    assert {"emnist_cnn", "mnist_cnn", "resnet18", "ensemble"} <= set(available_models())
    model = build_model("emnist_cnn", 5, generator=_gen(0))
    assert isinstance(model, EMNISTBayesianCNN)
    assert model.num_classes == 5
    with pytest.raises(
        UnknownNameError, match="unknown model 'resnet'; valid names: embeddings_mlp, emnist_cnn"
    ):
        build_model("resnet", 10)
