"""Streaming per-point acquisition equals the in-memory rules, for any chunk size."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from batchbald.acquisition import bald, entropy, mean_std, stochastic_batch, top_k
from batchbald.errors import InvalidInputError
from batchbald.scale import streamed_stochastic, streamed_top_k
from batchbald.scale.streaming import points_at_ranks_streamed

from ._pools import random_pool, write_store


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    log_probs = random_pool(3000, 6, 4, seed=0)
    return log_probs, write_store(tmp_path_factory.mktemp("pool") / "s", log_probs, 700)


def test_torch_rand_is_the_same_drawn_at_once_or_in_pieces():
    """The premise of streamed Gumbel keys: one CPU generator, any split, the same numbers."""
    whole = torch.rand(10_000, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    generator = torch.Generator().manual_seed(3)
    sizes = [1, 7, 16, 999, 4096, 4881]
    pieces = [torch.rand(size, generator=generator, dtype=torch.float64) for size in sizes]
    assert torch.equal(torch.cat(pieces), whole)


@pytest.mark.parametrize("chunk_rows", [1, 333, 700, 5000])
@pytest.mark.parametrize(
    ("score", "score_fn"), [("bald", bald), ("entropy", entropy), ("mean_std", mean_std)]
)
def test_top_k_equals_in_memory(pool, chunk_rows, score, score_fn):
    log_probs, store = pool
    expected = top_k(score_fn(log_probs), 10)
    result = streamed_top_k(store, score, 10, chunk_rows=chunk_rows)
    assert torch.equal(result.indices, expected.indices)
    assert torch.equal(result.scores, expected.scores)


@pytest.mark.parametrize("mode", ["power", "softmax", "softrank"])
@pytest.mark.parametrize("coldness", [0.0, 1.0, 8.0, math.inf])
@pytest.mark.parametrize("chunk_rows", [256, 3000])
def test_stochastic_equals_in_memory(pool, mode, coldness, chunk_rows, tmp_path):
    log_probs, store = pool
    expected = stochastic_batch(
        bald(log_probs), 20, mode=mode, coldness=coldness,
        generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    generator = torch.Generator().manual_seed(7)
    result = streamed_stochastic(
        store, "bald", 20, mode=mode, coldness=coldness, generator=generator,
        chunk_rows=chunk_rows, scratch_dir=tmp_path,
    )  # fmt: skip
    assert torch.equal(result.indices, expected.indices)
    assert torch.equal(result.scores, expected.scores)


def test_ties_go_to_the_lower_index(tmp_path):
    log_probs = random_pool(10, 3, 2, seed=1)
    log_probs = torch.cat([log_probs, log_probs, log_probs])  # every score three times
    store = write_store(tmp_path / "s", log_probs, shard_rows=7)
    expected = top_k(bald(log_probs), 9)
    assert torch.equal(streamed_top_k(store, "bald", 9, chunk_rows=4).indices, expected.indices)


def test_points_at_ranks_streamed_equals_a_stable_sort():
    generator = np.random.default_rng(0)
    scores = np.concatenate([generator.random(5000), np.zeros(300), -generator.random(200)])
    scores[::7] = 0.5  # many ties inside one bucket
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.array([1, 2, 3, 714, 5000, 5300, 5500])
    assert np.array_equal(points_at_ranks_streamed(scores, ranks, chunk_rows=333), order[ranks - 1])


def test_bad_arguments(pool):
    _, store = pool
    with pytest.raises(InvalidInputError, match=r"batch_size must be in \[1, 3000\] \(N\); got 0"):
        streamed_top_k(store, "bald", 0)
    with pytest.raises(InvalidInputError, match=r"score must be one of .*; got 'nope'"):
        streamed_top_k(store, "nope", 3)
    with pytest.raises(InvalidInputError, match="coldness must be a real number ≥ 0"):
        streamed_stochastic(store, "bald", 3, coldness=-1.0)


def test_slices_are_capped_in_elements(tmp_path):
    """chunk_rows is capped so a slice holds at most CHUNK_ELEMENTS (C = 100 pools: 6,553 rows
    of K = 20), bounding the score functions' temporaries whatever K · C is."""
    from batchbald.scale.streaming import CHUNK_ELEMENTS, slice_rows

    store = write_store(tmp_path / "s", random_pool(10, 20, 100, seed=0), shard_rows=5)
    assert slice_rows(store, 2**16) == CHUNK_ELEMENTS // 2000 == 6553
    assert slice_rows(store, 7) == 7
