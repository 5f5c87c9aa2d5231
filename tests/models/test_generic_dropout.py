"""consistent_mc_dropout on user networks: ResNet-18, a transformer encoder, bad inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from batchbald.errors import ModelError
from batchbald.models import (
    ResNet18,
    consistent_mc_dropout,
    predict_deterministic,
    predict_embeddings,
    predict_log_probs,
)
from batchbald.models.dropout import ConsistentMCDropout2d

from .nets import TinyTransformer, head_dropout_net


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    return consistent_mc_dropout(ResNet18(10, generator=_g(0)), head_dropout=0.5)


def test_resnet_batch_size_independent_and_deterministic(resnet):
    x = torch.randn(5, 3, 32, 32, generator=_g(1))
    a = predict_log_probs(resnet, x, 4, batch_size=5, generator=_g(2))
    b = predict_log_probs(resnet, x, 4, batch_size=2, generator=_g(2))
    c = predict_log_probs(resnet, x, 4, batch_size=1, generator=_g(2))
    assert a.shape == (5, 4, 10)
    assert torch.equal(a, b) and torch.equal(a, c)
    assert torch.allclose(a.logsumexp(-1), torch.zeros(5, 4), atol=1e-5)
    assert (a[:, 0] - a[:, 1]).abs().max() > 1e-3  # the K masks differ
    assert resnet.share_prefix  # the chain up to the head dropout runs once per input
    other = predict_log_probs(resnet, x, 4, batch_size=5, generator=_g(3))
    assert not torch.equal(a, other)


def test_resnet_state_dict_keys_follow_torchvision(resnet):
    keys = list(resnet.state_dict())
    assert "net.layer2.0.downsample.0.weight" in keys and "net.fc.weight" in keys
    assert resnet.embed(torch.zeros(2, 3, 32, 32)).shape == (2, 512)


def test_prefix_runs_once_per_input():
    net = head_dropout_net()
    calls = []
    net[0].register_forward_hook(lambda _m, args, _o: calls.append(args[0].shape[0]))
    model = consistent_mc_dropout(net).eval()
    model.prepare_masks(7, generator=_g(0))
    with torch.no_grad():
        model(torch.zeros(3, 1, 28, 28), 7)
    # First call: the 2-input prefix check runs plain (2·7 rows) and shared (2), then 3 rows.
    assert calls[-1] == 3 and 14 in calls


def test_transformer_encoder_dropout_is_consistent():
    model = consistent_mc_dropout(TinyTransformer())
    x = torch.randn(6, 4, 5, generator=_g(1))
    a = predict_log_probs(model, x, 3, batch_size=6, generator=_g(2))
    b = predict_log_probs(model, x, 3, batch_size=2, generator=_g(2))
    assert torch.allclose(a, b, atol=1e-6)  # the fallback path: same masks, other row counts
    assert (a[:, 0] - a[:, 1]).abs().max() > 1e-4
    assert not model.share_prefix  # residual connections around the dropout: no shared prefix
    off = predict_deterministic(model, x)
    assert off.shape == (6, 1, 3)


def test_channel_dropout_replaced():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.Dropout2d(0.5), nn.Flatten(), nn.Linear(4 * 26 * 26, 2)
    )
    model = consistent_mc_dropout(net)
    assert isinstance(model.net[1], ConsistentMCDropout2d)
    assert isinstance(net[1], nn.Dropout2d)  # the argument is left unchanged


def test_training_mode_uses_generator():
    model = consistent_mc_dropout(head_dropout_net()).train()
    x = torch.randn(4, 1, 28, 28, generator=_g(0))
    a, b = model(x, 1, generator=_g(5)), model(x, 1, generator=_g(5))
    assert torch.equal(a, b) and a.shape == (4, 1, 10)


def test_embeddings_batch_size_independent():
    model = consistent_mc_dropout(head_dropout_net())
    x = torch.randn(9, 1, 28, 28, generator=_g(0))
    e1, e2 = predict_embeddings(model, x, batch_size=9), predict_embeddings(model, x, batch_size=4)
    assert e1.shape == (9, 16) and torch.equal(e1, e2)


def test_no_dropout_is_a_named_error():
    with pytest.raises(ModelError, match=r"has no nn.Dropout.*pass head_dropout=0.5"):
        consistent_mc_dropout(ResNet18(10))


def test_alpha_dropout_refused():
    with pytest.raises(ModelError, match="AlphaDropout at '1' is not supported"):
        consistent_mc_dropout(nn.Sequential(nn.Linear(3, 3), nn.AlphaDropout(0.1)))


def test_head_dropout_needs_a_linear():
    with pytest.raises(ModelError, match=r"head_dropout needs an nn.Linear"):
        consistent_mc_dropout(nn.Sequential(nn.Conv2d(1, 2, 3)), head_dropout=0.5)


def test_output_not_b_c_is_a_named_error():
    net = nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 6), nn.Unflatten(1, (2, 3)))
    model = consistent_mc_dropout(net).eval()
    model.prepare_masks(2, generator=_g(0))
    with pytest.raises(ModelError, match=r"output must be float \[B, C\].*got \(2, 2, 3\)"):
        model(torch.zeros(1, 4), 2)


def test_not_a_module():
    with pytest.raises(ModelError, match=r"module must be a torch.nn.Module; got str"):
        consistent_mc_dropout("resnet")  # type: ignore[arg-type]
