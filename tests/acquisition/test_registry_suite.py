"""The common suite every registered acquirer passes (like scikit-learn's parametrize_with_checks).

A new acquirer is covered by its registry line: valid unique indices, input untouched,
reproducible with a generator, bad input rejected with InvalidInputError, and its declared
hyperparameters consistent with its function (defaults valid, wrong types and ranges rejected).
Acquirers that declare ``needs_embeddings`` also get pool features ``[N, D]`` and labelled
features ``[L, D]``.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings

import pytest
import torch

from batchbald.acquisition import (
    AcquisitionResult,
    ParameterError,
    available_acquirers,
    check_params,
    get_acquirer,
)
from batchbald.errors import BatchBALDWarning, InvalidInputError, UnknownNameError

N, K, C, B = 40, 8, 4, 5
D, L = 6, 3
# Inputs an acquirer receives by keyword besides its declared hyperparameters.
INPUT_KEYWORDS = {
    "generator",
    "embeddings_N_D",
    "labelled_embeddings_L_D",
    "target_log_probs_T_K_C",
}


def pool(seed: int, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(N, K, C, generator=generator)).log_softmax(-1).to(dtype)


def call(name: str, log_probs: torch.Tensor, seed: int = 0, batch_size: int = B, **kwargs):
    acquirer = get_acquirer(name)
    eval_log_probs = (
        pool(99, log_probs.dtype)[: len(log_probs), : log_probs.shape[1]]
        if acquirer.needs_eval_model
        else None
    )
    if acquirer.needs_embeddings:
        kwargs.setdefault("embeddings_N_D", features(len(log_probs)))
        kwargs.setdefault("labelled_embeddings_L_D", features(L, seed=98))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchBALDWarning)
        return acquirer(
            log_probs,
            batch_size,
            generator=torch.Generator().manual_seed(seed),
            eval_log_probs_N_K_C=eval_log_probs,
            **kwargs,
        )


def features(num_points: int, seed: int = 97) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(num_points, D, generator=generator)


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
        ParameterError,
        match=r"acquirer 'batchbald' has no parameter 'coldnes'; valid parameters: "
        r"num_samples, dtype, max_memory_bytes, lazy",
    ):
        get_acquirer("batchbald", coldnes=2.0)
    with pytest.raises(ParameterError, match=r"valid parameters: none"):
        get_acquirer("bald", coldness=2.0)


# A value of the wrong type for each declared type (bool is an int in Python: rejected for int
# and float parameters), and what the message says the type must be.
WRONG_TYPE = {
    bool: ("no", "must be a bool; got 'no' (str)"),
    int: (True, "must be an int; got True (bool)"),
    float: ("1.0", "must be a real number; got '1.0' (str)"),
    str: (3, "must be a string; got 3 (int)"),
    torch.dtype: ("float16", 'must be "float32" or "float64"'),
}


def declared(name):
    return get_acquirer(name).declared


def test_declared_defaults_pass_their_checks(name):
    acquirer = get_acquirer(name)
    defaults = {param.name: param.default for param in acquirer.declared}
    assert check_params(name, defaults) == defaults
    assert acquirer.settings == defaults


def test_declarations_match_the_function_signature(name):
    """Declared names and defaults are the function's keyword hyperparameters."""
    acquirer = get_acquirer(name)
    parameters = inspect.signature(acquirer.fn).parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return  # a factory-made function (score_acquirer): its declarations are checked by use
    keywords = {
        parameter.name: parameter.default
        for parameter in parameters
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name not in INPUT_KEYWORDS
    }
    assert [param.name for param in acquirer.declared] == list(keywords)
    for param in acquirer.declared:
        assert param.check(keywords[param.name]) == param.default, param.name


def test_each_declared_parameter_rejects_a_wrong_type(name):
    for param in declared(name):
        value, message = WRONG_TYPE[param.type]
        expected = "^" + re.escape(f"{param.name} {message}")
        with pytest.raises(ParameterError, match=expected) as info:
            get_acquirer(name, **{param.name: value})
        assert info.value.parameter == param.name
        with pytest.raises(ParameterError, match=expected):
            check_params(name, {param.name: value})


def test_each_bounded_parameter_rejects_values_out_of_range(name):
    for param in declared(name):
        bad = [math.nan] if param.type is float else []
        bad += [param.low - 1] if param.low is not None else []
        bad += [param.high + 1] if param.high is not None else []
        for value in bad:
            with pytest.raises(ParameterError, match=f"^{param.name} must be .*; got "):
                get_acquirer(name, **{param.name: value})


def test_float_parameters_accept_ints_as_floats(name):
    for param in declared(name):
        if param.type is float and param.low is not None:
            checked = check_params(name, {param.name: int(param.low) + 1})
            assert checked[param.name] == param.low + 1
            assert isinstance(checked[param.name], float)


def test_eval_model_acquirers_need_eval_log_probs():
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        if acquirer.needs_eval_model:
            with pytest.raises(InvalidInputError, match=r"needs eval_log_probs_N_K_C"):
                acquirer(pool(0), B)


def test_acquirers_that_ignore_predictions_take_the_pool_size():
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        if not acquirer.needs_predictions:
            inputs = (
                {"embeddings_N_D": features(N), "labelled_embeddings_L_D": features(L, 98)}
                if acquirer.needs_embeddings
                else {}
            )
            generator = torch.Generator().manual_seed(3)
            from_size = acquirer(N, B, generator=generator, **inputs)
            generator = torch.Generator().manual_seed(3)
            from_pool = acquirer(pool(6), B, generator=generator, **inputs)
            assert from_size.indices.tolist() == from_pool.indices.tolist()


def test_embedding_acquirers_need_embeddings():
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        if acquirer.needs_embeddings:
            with pytest.raises(InvalidInputError, match=r"needs embeddings_N_D"):
                acquirer(pool(0), B)


def test_embedding_acquirers_reject_bad_embeddings():
    for name in available_acquirers():
        if get_acquirer(name).needs_embeddings:
            with pytest.raises(InvalidInputError, match=r"embeddings_N_D must have one row per"):
                call(name, pool(0), embeddings_N_D=torch.randn(N - 1, D))
            with pytest.raises(InvalidInputError, match=r"embeddings_N_D must be 2-D"):
                call(name, pool(0), embeddings_N_D=torch.randn(N))
            with pytest.raises(InvalidInputError, match=r"embeddings_N_D must be finite"):
                call(name, pool(0), embeddings_N_D=torch.full((N, D), float("nan")))


def test_batch_at_most_k_is_declared_exactly_where_needed(name):
    """A rule that rejects b > K declares ``batch_at_most_k`` (configs check it when read)."""
    log_probs = pool(6)[:, :2]  # K = 2 < b = 5
    if get_acquirer(name).batch_at_most_k:
        with pytest.raises(InvalidInputError, match=r"K ≥ b"):
            call(name, log_probs)
    else:
        assert len(call(name, log_probs).indices) == B
