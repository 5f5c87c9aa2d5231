"""Streamed BatchBALD equals in-memory BatchBALD with the same generator (picks and scores)."""

from __future__ import annotations

import warnings

import pytest
import torch

from batchbald.acquisition import batchbald
from batchbald.errors import InvalidInputError
from batchbald.scale import streamed_batchbald

from ._pools import random_pool, write_store


@pytest.mark.parametrize(
    ("seed", "num_samples", "initial"),
    [(0, 10_000, 64), (1, 200, 32), (2, 200, 1024), (3, 50, 16)],
)
def test_same_picks_and_scores_as_in_memory(tmp_path, seed, num_samples, initial):
    """Exact phase (C^4 = 81 ≤ 10,000 for seed 0) and sampled phases (M = 200, 50: the
    configurations are drawn from the generator, so the stream must match too)."""
    log_probs = random_pool(4000, 8, 3, seed=seed, spread=0.6)
    store = write_store(tmp_path / "s", log_probs, shard_rows=900)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = batchbald(
            log_probs, 4, num_samples=num_samples, generator=torch.Generator().manual_seed(seed)
        )
        streamed = streamed_batchbald(
            store, 4, num_samples=num_samples, generator=torch.Generator().manual_seed(seed),
            initial_candidates=initial, chunk_rows=512,
        )  # fmt: skip
    assert streamed.result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(streamed.result.scores, expected.scores)
    assert streamed.candidates_loaded < 4000  # the point: not everything was loaded


def test_generator_ends_where_the_in_memory_call_leaves_it(tmp_path):
    """A round that fails the certificate rewinds the generator: no draw is lost or repeated."""
    log_probs = random_pool(2000, 6, 3, seed=5, spread=0.6)
    store = write_store(tmp_path / "s", log_probs, shard_rows=500)
    memory_generator, streamed_generator = (torch.Generator().manual_seed(9) for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = batchbald(log_probs, 5, num_samples=30, generator=memory_generator)
        streamed = streamed_batchbald(
            store, 5, num_samples=30, generator=streamed_generator, initial_candidates=5
        )
    assert streamed.rounds > 1
    assert streamed.result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(memory_generator.get_state(), streamed_generator.get_state())


def test_chunk_size_does_not_matter(tmp_path):
    log_probs = random_pool(1500, 5, 4, seed=6, spread=0.6)
    store = write_store(tmp_path / "s", log_probs, shard_rows=400)
    picks = {
        chunk: streamed_batchbald(
            store, 3, generator=torch.Generator().manual_seed(0), chunk_rows=chunk
        ).result.indices.tolist()
        for chunk in (1, 97, 4096)
    }
    assert len({tuple(value) for value in picks.values()}) == 1


def test_not_enough_room_is_a_named_error_not_a_guess(tmp_path):
    """A saturating pool (every point highly informative): gains collapse below the BALD of the
    points left out, so the certificate cannot hold within 40 candidates."""
    log_probs = random_pool(400, 4, 6, seed=7, spread=8.0)
    store = write_store(tmp_path / "s", log_probs, shard_rows=100)
    with (
        warnings.catch_warnings(),
        pytest.raises(InvalidInputError, match="needs more than max_candidates = 40"),
    ):
        warnings.simplefilter("ignore")
        streamed_batchbald(store, 8, num_samples=100, max_candidates=40, initial_candidates=10)
