"""The common suite every registered acquirer passes (like scikit-learn's parametrize_with_checks).

A new acquirer is covered by its registry line: valid unique indices, input untouched,
reproducible with a generator, bad input rejected with InvalidInputError.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from batchbald.acquisition import AcquisitionResult, available_acquirers, get_acquirer
from batchbald.errors import BatchBALDWarning, InvalidInputError, UnknownNameError

N, K, C, B = 40, 8, 4, 5


def pool(seed: int, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(N, K, C, generator=generator)).log_softmax(-1).to(dtype)


def call(name: str, log_probs: torch.Tensor, seed: int = 0, batch_size: int = B, **kwargs):
    acquirer = get_acquirer(name)
    eval_log_probs = (
        pool(99, log_probs.dtype)[: len(log_probs)] if acquirer.needs_eval_model else None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchBALDWarning)
        return acquirer(
            log_probs,
            batch_size,
            generator=torch.Generator().manual_seed(seed),
            eval_log_probs_N_K_C=eval_log_probs,
            **kwargs,
        )


@pytest.fixture(params=available_acquirers())
def name(request):
    return request.param


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_returns_valid_unique_indices(name, dtype):
    result = call(name, pool(0, dtype))
    assert isinstance(result, AcquisitionResult)
    assert result.indices.dtype == torch.int64 and result.scores.dtype == torch.float64
    assert result.indices.shape == (B,) and result.scores.shape == (B,)
    assert len(set(result.indices.tolist())) == B
    assert all(0 <= i < N for i in result.indices.tolist())
    assert torch.isfinite(result.scores).all()


def test_input_is_not_modified(name):
    log_probs = pool(1, torch.float64)
    copy = log_probs.clone()
    call(name, log_probs)
    assert torch.equal(log_probs, copy)


def test_reproducible_with_generator(name):
    first, second = call(name, pool(2), seed=7), call(name, pool(2), seed=7)
    assert first.indices.tolist() == second.indices.tolist()
    assert torch.equal(first.scores, second.scores)


def test_batch_of_whole_pool(name):
    result = call(name, pool(3)[:6], batch_size=6)
    assert sorted(result.indices.tolist()) == list(range(6))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda lp: lp[0], r"must be 3-D"),
        (lambda lp: torch.randn_like(lp), r"must be normalised"),
        (
            lambda lp: lp.masked_fill(
                torch.zeros_like(lp, dtype=torch.bool).index_fill_(0, torch.tensor([3]), True),
                float("nan"),
            ),
            r"must not contain NaN",
        ),
    ],
)
def test_rejects_bad_log_probs(name, mutate, message):
    with pytest.raises(InvalidInputError, match=message):
        call(name, mutate(pool(4)))


def test_rejects_bad_batch_size(name):
    with pytest.raises(
        InvalidInputError, match=r"batch_size must be ≤ the pool size N = 40; got 41"
    ):
        call(name, pool(5), batch_size=41)
    with pytest.raises(InvalidInputError, match=r"batch_size must be ≥ 1; got 0"):
        call(name, pool(5), batch_size=0)


def test_unknown_name_lists_valid_names():
    with pytest.raises(
        UnknownNameError, match=r"unknown acquirer 'bold'; valid names: .*bald.*batchbald"
    ):
        get_acquirer("bold")


def test_unknown_parameter_is_an_error():
    with pytest.raises(
        InvalidInputError, match=r"acquirer 'batchbald' has no parameter\(s\) \['coldnes'\]"
    ):
        get_acquirer("batchbald", coldnes=2.0)


def test_eval_model_acquirers_need_eval_log_probs():
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        if acquirer.needs_eval_model:
            with pytest.raises(InvalidInputError, match=r"needs eval_log_probs_N_K_C"):
                acquirer(pool(0), B)
