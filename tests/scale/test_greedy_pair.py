"""Streamed BatchEvaluationBALD and BatchEIG over two stores equal the in-memory rules with the
same generator: picks, scores and the generator's final state, in both phases."""

from __future__ import annotations

import warnings

import pytest
import torch

from batchbald.acquisition import batch_eig, batch_evaluation_bald
from batchbald.errors import InvalidInputError
from batchbald.scale.greedy_pair import streamed_batch_evaluation

from ._pools import random_pool, write_store

RULES = {"batch_evaluation_bald": batch_evaluation_bald, "batch_eig": batch_eig}


def pools(tmp_path, n: int, k: int, c: int, seed: int):
    """A training pool and an evaluation model's view of it (the same means, other noise)."""
    train = random_pool(n, k, c, seed=seed, spread=0.6)
    noise = torch.randn(train.shape, generator=torch.Generator().manual_seed(seed + 100))
    evaluation = torch.log_softmax(train + 0.3 * noise, -1)
    stores = (write_store(tmp_path / "t", train, 700), write_store(tmp_path / "e", evaluation, 500))
    return train, evaluation, stores


@pytest.mark.parametrize("method", sorted(RULES))
@pytest.mark.parametrize(
    ("seed", "batch_size", "num_samples", "initial"),
    [(0, 4, 10_000, 64), (1, 8, 50, 32), (2, 8, 50, 16)],
)
def test_same_as_in_memory(tmp_path, method, seed, batch_size, num_samples, initial):
    """Exact phase only (C^4 = 81 ≤ 10,000), and b = 8 with M = 50: steps 3..7 sampled."""
    train, evaluation, (store, eval_store) = pools(tmp_path, 1500, 8, 3, seed)
    memory_generator, streamed_generator = (torch.Generator().manual_seed(seed) for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = RULES[method](
            train, evaluation, batch_size, num_samples=num_samples, generator=memory_generator
        )
        streamed = streamed_batch_evaluation(
            store, eval_store, batch_size, method=method, num_samples=num_samples,
            generator=streamed_generator, initial_candidates=initial, chunk_rows=333,
        )  # fmt: skip
    assert streamed.result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(streamed.result.scores, expected.scores)
    assert torch.equal(memory_generator.get_state(), streamed_generator.get_state())
    assert streamed.candidates_loaded < 1500


def test_stores_of_different_shapes_are_refused(tmp_path):
    store = write_store(tmp_path / "a", random_pool(50, 4, 3, seed=0), 20)
    other = write_store(tmp_path / "b", random_pool(40, 4, 3, seed=0), 20)
    with pytest.raises(InvalidInputError, match=r"the evaluation store must have the pool store's"):
        streamed_batch_evaluation(store, other, 3)
    with pytest.raises(InvalidInputError, match="method must be one of batch_evaluation_bald"):
        streamed_batch_evaluation(store, store, 3, method="batchbald")
