"""BADGE: gradient embeddings against autograd, k-means++ against a naive reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from batchbald.acquisition import badge, gradient_embeddings
from batchbald.errors import InvalidInputError


def linear_head(seed: int, n: int, d: int, c: int):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n, d, generator=generator, dtype=torch.float64)
    layer = torch.nn.Linear(d, c).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(c, d, generator=generator, dtype=torch.float64))
        layer.bias.copy_(torch.randn(c, generator=generator, dtype=torch.float64))
    return features, layer


def test_embeddings_equal_autograd_gradient_at_predicted_label():
    features, layer = linear_head(0, 7, 5, 4)
    log_probs = F.log_softmax(layer(features), dim=-1).detach()
    embeddings = gradient_embeddings(log_probs.unsqueeze(1), features)
    for n in range(len(features)):
        layer.zero_grad()
        logits = layer(features[n : n + 1])
        predicted = logits.argmax(dim=1)
        F.cross_entropy(logits, predicted).backward()
        torch.testing.assert_close(embeddings[n], layer.weight.grad.flatten(), rtol=0, atol=1e-12)


def test_embeddings_use_the_mc_averaged_predictive():
    features, _ = linear_head(1, 3, 2, 3)
    generator = torch.Generator().manual_seed(2)
    log_probs = torch.randn(3, 5, 3, generator=generator, dtype=torch.float64).log_softmax(-1)
    mean = log_probs.exp().mean(dim=1)
    residual = mean - F.one_hot(mean.argmax(dim=1), 3)
    expected = torch.einsum("nc,nd->ncd", residual, features).flatten(1)
    torch.testing.assert_close(gradient_embeddings(log_probs, features), expected)


def naive_kmeans_pp(embeddings: np.ndarray, batch_size: int, generator) -> list[int]:
    """k-means++ seeding from the definition on materialised embeddings (O(N² b))."""
    chosen = [int(np.argmax((embeddings**2).sum(axis=1)))]
    while len(chosen) < batch_size:
        distances = ((embeddings[:, None, :] - embeddings[None, chosen, :]) ** 2).sum(-1).min(1)
        distances[chosen] = 0.0
        uniform = float(torch.rand(1, dtype=torch.float64, generator=generator))
        cumulative = np.cumsum(distances)
        chosen.append(int(np.searchsorted(cumulative, uniform * cumulative[-1], side="right")))
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_kmeans_pp_matches_naive_reference(seed):
    features, _ = linear_head(seed, 60, 6, 5)
    generator = torch.Generator().manual_seed(100 + seed)
    log_probs = torch.randn(60, 4, 5, generator=generator, dtype=torch.float64).log_softmax(-1)
    result = badge(
        log_probs, 8, generator=torch.Generator().manual_seed(seed), embeddings_N_D=features
    )
    embeddings = gradient_embeddings(log_probs, features).numpy()
    expected = naive_kmeans_pp(embeddings, 8, torch.Generator().manual_seed(seed))
    assert result.indices.tolist() == expected
    first = result.indices[0]
    assert result.scores[0].item() == pytest.approx(
        float((embeddings[first] ** 2).sum()), rel=1e-12
    )


def test_reproducible_and_generator_dependent():
    features = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    log_probs = torch.randn(200, 3, 10, generator=torch.Generator().manual_seed(1)).log_softmax(-1)

    def picks(seed):
        return badge(
            log_probs, 20, generator=torch.Generator().manual_seed(seed), embeddings_N_D=features
        ).indices.tolist()

    assert picks(3) == picks(3)
    assert picks(3) != picks(4)


def test_duplicates_fall_back_to_uniform_over_unpicked():
    features = torch.ones(5, 3)
    log_probs = torch.full((5, 2, 2), 0.5).log()
    result = badge(
        log_probs, 5, generator=torch.Generator().manual_seed(0), embeddings_N_D=features
    )
    assert sorted(result.indices.tolist()) == list(range(5))


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            torch.randn(4, 3),
            r"embeddings_N_D must have one row per pool point \(N = 5\); got 4 rows",
        ),
        (torch.randn(5), r"embeddings_N_D must be 2-D \[N, D\]"),
        (torch.ones(5, 3, dtype=torch.long), r"embeddings_N_D must be a floating tensor"),
        (torch.full((5, 3), float("inf")), r"embeddings_N_D must be finite; got 15 NaN/inf"),
    ],
)
def test_rejects_bad_features(features, message):
    with pytest.raises(InvalidInputError, match=message):
        badge(torch.full((5, 2, 2), 0.5).log(), 2, embeddings_N_D=features)


def test_the_predictive_mean_is_sliced_and_equal_to_the_whole_tensors():
    """Row slices bound BADGE's float64 temporaries; every row's mean is bitwise the same."""
    from batchbald.acquisition.badge import predictive_mean

    generator = torch.Generator().manual_seed(0)
    log_probs = torch.randn(9000, 100, 10, generator=generator).log_softmax(-1)
    assert torch.equal(predictive_mean(log_probs), log_probs.double().exp().mean(dim=1))
