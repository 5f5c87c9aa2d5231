"""Last-layer posteriors: equivalence with the generic wrapper, the feature cache, Laplace maths."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import ModelError
from batchbald.models import (
    DropoutHead,
    FeatureCache,
    LaplaceHead,
    LastLayerModel,
    consistent_mc_dropout,
    predict_embeddings,
    predict_log_probs,
)
from batchbald.models.laplace import kron_factors, kron_samples
from batchbald.models.last_layer import split_last_linear

from .nets import head_dropout_net


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _last_layer(net: nn.Module, head: str = "dropout", cache=None) -> LastLayerModel:
    backbone, linear = split_last_linear(net)
    heads = {"dropout": lambda: DropoutHead(linear, 0.5), "laplace": lambda: LaplaceHead(linear)}
    return LastLayerModel(backbone, heads[head](), cache)


def test_equivalence_with_generic_wrapper():
    torch.manual_seed(0)
    net = head_dropout_net()
    x = torch.randn(11, 1, 28, 28, generator=_g(1))
    generic = predict_log_probs(consistent_mc_dropout(net), x, 6, generator=_g(2))
    last = predict_log_probs(_last_layer(net), x, 6, generator=_g(2))
    # Same masks (one seed per dropout layer from the same generator), same arithmetic.
    assert torch.allclose(generic, last, atol=1e-6, rtol=0)


def test_cache_reused_while_backbone_unchanged():
    cache = FeatureCache()
    net = head_dropout_net()
    x = torch.randn(8, 1, 28, 28, generator=_g(1))
    model = _last_layer(net, cache=cache)
    first = predict_log_probs(model, x, 3, generator=_g(2))
    assert cache.computed == 8
    again = predict_log_probs(_last_layer(net, cache=cache), x[[3, 1, 1]], 3, generator=_g(2))
    assert cache.computed == 8  # a new model over the same backbone: every row from the cache
    assert torch.allclose(again, first[[3, 1, 1]])
    with torch.no_grad():
        net[0].weight.add_(0.1)  # the backbone changes: features are recomputed
    predict_log_probs(_last_layer(net, cache=cache), x[:2], 3, generator=_g(2))
    assert cache.computed == 10 and len(cache) == 2


def test_laplace_batch_size_independent_and_deterministic():
    torch.manual_seed(0)
    model = _last_layer(head_dropout_net(), "laplace")
    x = torch.randn(9, 1, 28, 28, generator=_g(1))
    model.head.fit_posterior(predict_embeddings(model, x))
    a = predict_log_probs(model, x, 5, batch_size=9, generator=_g(2))
    b = predict_log_probs(model, x, 5, batch_size=2, generator=_g(2))
    assert torch.allclose(a, b, atol=1e-6) and (a[:, 0] - a[:, 1]).abs().max() > 1e-4
    assert not torch.equal(a, predict_log_probs(model, x, 5, generator=_g(3)))


def test_unfitted_laplace_head_uses_map_weights():
    model = _last_layer(head_dropout_net(), "laplace")
    out = predict_log_probs(model, torch.zeros(2, 1, 28, 28), 3, generator=_g(0))
    assert torch.equal(out[:, 0], out[:, 2])


def _nll(params_flat, phi, labels, classes):
    weight_bias = params_flat.view(classes, -1)
    logits = phi @ weight_bias[:, :-1].T + weight_bias[:, -1]
    return F.cross_entropy(logits, labels, reduction="sum")


@pytest.mark.parametrize("count", [1, 5])
def test_kron_factors_against_autograd_hessian(count):
    """One point: K-FAC is exact (G ⊗ A = Λ ⊗ φ̃φ̃ᵀ = the NLL's Hessian, the head being linear).
    Several points: the factors' Kronecker product has the Hessian's trace-scaled blocks
    ``(1/N) Σ Λ_n ⊗ Σ φ̃φ̃ᵀ``, checked against that sum computed naively."""
    gen = _g(count)
    classes, dim = 3, 4
    phi = torch.randn(count, dim, generator=gen, dtype=torch.float64)
    weight = torch.randn(classes, dim, generator=gen, dtype=torch.float64)
    bias = torch.randn(classes, generator=gen, dtype=torch.float64)
    s_g, u_g, s_a, u_a = kron_factors(phi, weight, bias)
    kron = torch.kron(u_g @ torch.diag(s_g) @ u_g.T, u_a @ torch.diag(s_a) @ u_a.T)
    flat = torch.cat([weight, bias[:, None]], 1).flatten()
    labels = torch.zeros(count, dtype=torch.long)
    hessian = torch.autograd.functional.hessian(lambda w: _nll(w, phi, labels, classes), flat)
    if count == 1:
        assert torch.allclose(kron, hessian, atol=1e-10)
    else:
        probs = F.softmax(phi @ weight.T + bias, 1)
        g = sum(torch.diag(p) - torch.outer(p, p) for p in probs) / count
        phi1 = torch.cat([phi, torch.ones(count, 1, dtype=torch.float64)], 1)
        assert torch.allclose(kron, torch.kron(g, phi1.T @ phi1), atol=1e-10)


def test_kron_samples_have_the_posterior_covariance():
    """Empirical covariance of 40,000 samples vs (G ⊗ A + λI)⁻¹. Each covariance entry's
    standard error is about sqrt(2/n)·max variance ≈ 0.007·max; tolerance 0.04·max (> 5 SE)."""
    gen = _g(0)
    phi = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    weight, bias = torch.randn(2, 3, generator=gen), torch.randn(2, generator=gen)
    factors = kron_factors(phi, weight, bias)
    s_g, u_g, s_a, u_a = factors
    precision = torch.kron(u_g @ torch.diag(s_g) @ u_g.T, u_a @ torch.diag(s_a) @ u_a.T)
    covariance = torch.linalg.inv(precision + 0.7 * torch.eye(8, dtype=torch.float64))
    w, b = kron_samples(weight, bias, factors, 0.7, 40_000, generator=_g(1))
    flat = torch.cat([w, b[..., None]], 2).double().flatten(1)  # [K, C·(D+1)], row-major
    mean = torch.cat([weight, bias[:, None]], 1).double().flatten()
    assert torch.allclose(flat.mean(0), mean, atol=0.04 * covariance.diag().max().sqrt())
    empirical = torch.cov(flat.T)
    assert (empirical - covariance).abs().max() < 0.04 * covariance.diag().max()


def test_bad_prior_precision_and_missing_linear():
    with pytest.raises(ModelError, match="prior_precision must be > 0; got 0"):
        LaplaceHead(nn.Linear(2, 2), 0)
    with pytest.raises(ModelError, match=r"needs a final nn.Linear"):
        split_last_linear(nn.Sequential(nn.Conv2d(1, 1, 1)))


@pytest.mark.parametrize("head", ["dropout", "laplace"])
def test_scoring_shortcut_equals_forward(head):
    torch.manual_seed(0)
    model = _last_layer(head_dropout_net(), head).eval()
    x = torch.randn(5, 1, 28, 28, generator=_g(1))
    if head == "laplace":
        model.head.fit_posterior(model.embed(x))
    model.prepare_masks(4, generator=_g(2))
    with torch.no_grad():
        fast, reference = model.scoring_log_probs(x, 4), model(x, 4)
    assert torch.allclose(fast, reference, atol=1e-6)
    assert (fast[:, 0] - fast[:, 1]).abs().max() > 1e-4


def test_cache_filled_in_many_chunks_returns_the_backbone_features():
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(12, 5)).eval()
    x = torch.randn(40, 3, 2, 2, generator=_g(0))
    cache = FeatureCache(batch_size=3)
    for start in range(0, 40, 7):  # the store grows several times
        cache.features(backbone, x[start : start + 7])
    with torch.no_grad():
        expected = backbone(x)
    assert torch.allclose(cache.features(backbone, x.flip(0)), expected.flip(0), atol=1e-6)
    assert cache.computed == 40
