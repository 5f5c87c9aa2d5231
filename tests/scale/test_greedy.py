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


@pytest.mark.parametrize(("seed", "initial"), [(10, 32), (11, 64), (12, 16), (13, 128)])
def test_deep_into_the_sampled_phase(tmp_path, seed, initial):
    """b = 10 with C = 3, M = 50: steps 3..9 estimate joint entropies from sampled
    configurations (3^4 = 81 > 50). Picks, scores and the generator's final state equal the
    in-memory call's; the sampled steps are certified by the U_i bound (scale/sampled.py)."""
    log_probs = random_pool(3000, 8, 3, seed=seed, spread=0.6)
    store = write_store(tmp_path / "s", log_probs, shard_rows=700)
    memory_generator, streamed_generator = (torch.Generator().manual_seed(seed) for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = batchbald(log_probs, 10, num_samples=50, generator=memory_generator)
        streamed = streamed_batchbald(
            store, 10, num_samples=50, generator=streamed_generator, initial_candidates=initial
        )
    assert streamed.result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(streamed.result.scores, expected.scores)
    assert torch.equal(memory_generator.get_state(), streamed_generator.get_state())
    assert streamed.candidates_loaded < 3000


def test_replayed_configurations_are_the_engines(tmp_path):
    """The certificate replays each sampled step's configurations from the picks' rows and the
    generator's starting state; the engine's reported scores follow from them to 1e-10:
    scores[i] = H_i(y_A) − Σ_a E_ω H(y_a | ω) + ĝ_i(pick_i) under the replayed draws."""
    from batchbald.acquisition import conditional_entropy
    from batchbald.acquisition import joint_entropy as je
    from batchbald.acquisition.greedy.options import GreedyOptions
    from batchbald.scale.sampled import sampled_steps

    log_probs = random_pool(500, 6, 3, seed=3, spread=0.6).double()
    generator = torch.Generator().manual_seed(4)
    state = generator.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = batchbald(log_probs, 7, num_samples=40, generator=generator)
    picks = result.indices
    options = GreedyOptions(num_samples=40)
    steps = sampled_steps(log_probs[picks], options, state)
    assert [step.step for step in steps] == [3, 4, 5, 6]  # 3^(i+1) > 40 from i = 3
    replay = torch.Generator()
    replay.set_state(state)
    penalties = conditional_entropy(log_probs[picks])
    for step in steps:
        configs = je.sample_configurations(log_probs[picks[: step.step]], 40, generator=replay)
        before = configs.entropy() - float(penalties[: step.step].sum())
        assert abs(before + step.gain - float(result.scores[step.step])) < 1e-10
