"""One options type for the greedy rules: ``options=GreedyOptions(...)`` or keyword settings."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from batchbald.acquisition import batch_eig, batch_evaluation_bald, batchbald
from batchbald.acquisition.greedy.options import GreedyOptions, GreedySettings
from batchbald.acquisition.params import GREEDY_PARAMS
from batchbald.errors import InvalidInputError


def pool(seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(12, 4, 3, generator=generator, dtype=torch.float64).log_softmax(-1)


def call(fn, options=None, seed=0, **settings):
    """``fn`` on a pool whose last greedy step is sampled (3^4 > 40)."""
    extra = {} if options is None else {"options": options}
    inputs = (pool(1),) if fn is batchbald else (pool(1), pool(2))
    generator = torch.Generator().manual_seed(seed)
    return fn(*inputs, 4, generator=generator, **extra, **settings)


RULES = [batchbald, batch_eig, batch_evaluation_bald]


def test_settings_are_the_declared_params_with_the_options_defaults():
    """The registry's declarations (CLI --param, configs) are the keyword settings."""
    assert [param.name for param in GREEDY_PARAMS] == list(GreedySettings.__annotations__)
    defaults = GreedyOptions()
    for param in GREEDY_PARAMS:
        assert param.check(getattr(defaults, param.name)) == param.default, param.name


@pytest.mark.parametrize("fn", RULES, ids=lambda fn: fn.__name__)
def test_options_and_keyword_settings_pick_the_same(fn):
    by_keywords = call(fn, num_samples=40, lazy=False)
    by_options = call(fn, GreedyOptions(num_samples=40, lazy=False))
    assert by_options.indices.tolist() == by_keywords.indices.tolist()
    assert torch.equal(by_options.scores, by_keywords.scores)
    # a keyword setting overrides that field of the options; the generator argument too
    overridden = call(fn, GreedyOptions(num_samples=5, lazy=False), num_samples=40)
    assert overridden.indices.tolist() == by_keywords.indices.tolist()
    assert torch.equal(overridden.scores, by_keywords.scores)


@pytest.mark.parametrize("fn", RULES, ids=lambda fn: fn.__name__)
def test_the_options_generator_is_used_unless_one_is_passed(fn):
    seeded = GreedyOptions(num_samples=40, generator=torch.Generator().manual_seed(0))
    inputs = (pool(1),) if fn is batchbald else (pool(1), pool(2))
    from_options = fn(*inputs, 4, options=seeded)
    assert torch.equal(from_options.scores, call(fn, num_samples=40).scores)


@pytest.mark.parametrize("fn", RULES, ids=lambda fn: fn.__name__)
def test_options_are_checked_like_keyword_settings(fn):
    with pytest.raises(InvalidInputError, match=r"^num_samples must be an int ≥ 1; got 0$"):
        call(fn, GreedyOptions(num_samples=0))
    with pytest.raises(InvalidInputError, match=r"^lazy must be a bool; got 'no' \(str\)$"):
        call(fn, dataclasses.replace(GreedyOptions(), lazy="no"))
    with pytest.raises(
        InvalidInputError, match=r"^options must be a GreedyOptions; got dict \{'num_samples': 40\}"
    ):
        call(fn, {"num_samples": 40})


@pytest.mark.parametrize("fn", RULES, ids=lambda fn: fn.__name__)
def test_an_unknown_keyword_is_a_type_error_naming_the_function(fn):
    with pytest.raises(
        TypeError, match=rf"^{fn.__name__}\(\) got an unexpected keyword argument 'num_sample'$"
    ):
        call(fn, num_sample=40)


def test_the_paired_rules_keep_their_names_and_docstrings():
    assert (batch_eig.__name__, batch_evaluation_bald.__name__) == (
        "batch_eig",
        "batch_evaluation_bald",
    )
    assert batch_eig.__doc__.startswith("Greedy BatchEIG (the PowerEvaluationBALD report).")
    assert "BatchBALD(train) − BatchBALD(eval)" in batch_evaluation_bald.__doc__
