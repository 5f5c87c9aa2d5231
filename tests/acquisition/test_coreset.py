"""k-center greedy coreset against a naive O(N²) reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from batchbald.acquisition import k_center_greedy
from batchbald.errors import InvalidInputError


def naive_k_center(pool: np.ndarray, labelled: np.ndarray, batch_size: int, first: int | None):
    """Sener & Savarese's Algorithm 1 from the definition, on the full distance matrix."""
    everything = np.concatenate([pool, labelled])
    distances = np.sqrt(((everything[:, None, :] - everything[None, :, :]) ** 2).sum(-1))
    centres = list(range(len(pool), len(everything)))
    chosen: list[int] = []
    for _ in range(batch_size):
        if not centres:
            pick = first
        else:
            nearest = distances[: len(pool), centres].min(axis=1)
            nearest[chosen] = -1.0
            pick = int(np.argmax(nearest))
        chosen.append(pick)
        centres.append(pick)
    return chosen


@pytest.mark.parametrize(("seed", "num_labelled"), [(0, 1), (1, 5), (2, 20)])
@pytest.mark.parametrize("max_memory_bytes", [8, 2**12, 2**27])
def test_matches_naive_reference(seed, num_labelled, max_memory_bytes):
    generator = torch.Generator().manual_seed(seed)
    pool = torch.randn(80, 4, generator=generator, dtype=torch.float64)
    labelled = torch.randn(num_labelled, 4, generator=generator, dtype=torch.float64)
    result = k_center_greedy(
        pool, 10, labelled_features_L_D=labelled, max_memory_bytes=max_memory_bytes
    )
    assert result.indices.tolist() == naive_k_center(pool.numpy(), labelled.numpy(), 10, None)
    first = result.indices[0]
    expected = torch.cdist(pool[first : first + 1], labelled).min()
    assert result.scores[0].item() == pytest.approx(expected.item(), rel=1e-12)
    assert (result.scores[1:] <= result.scores[:-1] + 1e-12).all()  # distances never grow


def test_without_labelled_points_the_first_pick_comes_from_the_generator():
    pool = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    first = int(torch.randint(50, (1,), generator=torch.Generator().manual_seed(5)))
    result = k_center_greedy(pool, 6, generator=torch.Generator().manual_seed(5))
    assert result.indices.tolist() == naive_k_center(pool.numpy(), np.zeros((0, 3)), 6, first)
    assert result.scores[0].item() == 0.0


def test_reproducible_with_generator():
    pool = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    first = k_center_greedy(pool, 5, generator=torch.Generator().manual_seed(2))
    second = k_center_greedy(pool, 5, generator=torch.Generator().manual_seed(2))
    assert first.indices.tolist() == second.indices.tolist()


def test_duplicate_points_still_give_unique_picks():
    result = k_center_greedy(torch.zeros(4, 2), 4, labelled_features_L_D=torch.zeros(1, 2))
    assert sorted(result.indices.tolist()) == [0, 1, 2, 3]


def test_rejects_labelled_features_of_another_width():
    with pytest.raises(
        InvalidInputError, match=r"labelled_embeddings_L_D must have D = 3 columns .* got 2"
    ):
        k_center_greedy(torch.randn(5, 3), 2, labelled_features_L_D=torch.randn(2, 2))
