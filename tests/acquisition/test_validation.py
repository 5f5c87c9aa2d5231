"""Bad input: public acquisition functions name the argument, the expectation and what came."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from batchbald.acquisition import (
    bald,
    batchbald,
    conditional_entropy,
    entropy,
    mean_std,
    random_batch,
    top_k,
    variation_ratios,
)
from batchbald.errors import (
    FewSamplesWarning,
    InvalidInputError,
    JointMutualInformationSaturationWarning,
    SingleSampleWarning,
)

SCORES = [entropy, conditional_entropy, bald, variation_ratios, mean_std]


def good(n=6, k=4, c=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, c, generator=generator).log_softmax(-1)


def with_value(value):
    log_probs = good().clone()
    log_probs[1, 2, 0] = value
    return log_probs


BAD_LOG_PROBS = [
    (good()[0], r"must be 3-D \[N, K, C\].*got shape \(4, 3\).*unsqueeze\(1\)"),
    (good()[None], r"must be 3-D .*got shape \(1, 6, 4, 3\)"),
    (with_value(math.nan), r"must not contain NaN; got 1 NaN"),
    (with_value(math.inf), r"must be log-probabilities .*got 1 entries equal to \+inf"),
    (torch.randn(6, 4, 3), r"must be normalised .*largest deviation is .*logits.*log_softmax"),
    (
        torch.randn(6, 4, 3).softmax(-1),
        r"must be normalised .*did you pass logits or probabilities",
    ),
    (torch.zeros(6, 4, 3, dtype=torch.long), r"must be a floating tensor .*got dtype torch.int64"),
    (torch.zeros(0, 4, 3), r"at least one pool point; got N = 0 \(empty pool\)"),
    (torch.zeros(6, 4, 1), r"at least 2 classes \(C ≥ 2\); got C = 1"),
    ("not an array", r"must be a torch.Tensor or numpy array; got str"),
]


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize(("log_probs", "message"), BAD_LOG_PROBS)
def test_bad_log_probs_rejected_by_scores(score, log_probs, message):
    with pytest.raises(InvalidInputError, match=message):
        score(log_probs)


@pytest.mark.parametrize(("log_probs", "message"), BAD_LOG_PROBS)
def test_bad_log_probs_rejected_by_batchbald(log_probs, message):
    with pytest.raises(InvalidInputError, match=message) as error:
        batchbald(log_probs, 1)
    assert "log_probs_N_K_C" in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, r"batch_size must be ≥ 1; got 0"),
        ({"batch_size": 7}, r"batch_size must be ≤ the pool size N = 6; got 7"),
        ({"batch_size": 2.0}, r"batch_size must be an int; got float"),
        ({"batch_size": 2, "num_samples": 0}, r"num_samples must be an int ≥ 1; got 0"),
        ({"batch_size": 2, "max_memory_bytes": -1}, r"max_memory_bytes must be an int ≥ 1; got -1"),
        ({"batch_size": 2, "max_memory_bytes": 10}, r"max_memory_bytes must be at least \d+ bytes"),
        (
            {"batch_size": 2, "generator": 3},
            r"generator must be a torch.Generator or None; got int",
        ),
        (
            {"batch_size": 2, "dtype": torch.float16},
            r'dtype must be "float32" or "float64" \(or torch.float32 / torch.float64\); '
            r"got torch.float16 \(dtype\)",
        ),
    ],
)
def test_bad_arguments_rejected_by_batchbald(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        batchbald(good(), **kwargs)


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_dtype_may_be_named_as_in_a_config(name):
    """A TOML config can only write the dtype's name; it means the torch dtype."""

    def run(dtype):
        return batchbald(good(), 2, dtype=dtype, generator=torch.Generator().manual_seed(0))

    named, typed = run(name), run(getattr(torch, name))
    assert torch.equal(named.indices, typed.indices)
    assert torch.equal(named.scores, typed.scores)


def test_errors_are_also_value_errors():
    with pytest.raises(ValueError):
        bald(torch.randn(6, 4, 3))


def test_numpy_float32_and_float64_accepted_and_scores_are_float64():
    log_probs = good()
    for array in (log_probs.numpy(), log_probs.double().numpy()):
        scores = bald(array)
        assert scores.dtype == torch.float64
        np.testing.assert_allclose(scores.numpy(), bald(log_probs).numpy(), atol=1e-6)
    result = batchbald(log_probs.numpy(), 2)
    assert result.scores.dtype == torch.float64 and result.indices.dtype == torch.int64


def test_selection_helpers_validate():
    with pytest.raises(InvalidInputError, match=r"scores_N must be 1-D \[N\]; got shape \(2, 2\)"):
        top_k(torch.zeros(2, 2), 1)
    with pytest.raises(InvalidInputError, match=r"scores_N must be finite"):
        top_k(torch.tensor([0.0, math.nan]), 1)
    with pytest.raises(InvalidInputError, match=r"batch_size must be ≤ the pool size N = 3; got 4"):
        random_batch(3, 4, generator=torch.Generator())
    with pytest.raises(InvalidInputError, match=r"pool_size must be an int ≥ 1; got 0"):
        random_batch(0, 1)


def test_single_sample_warns():
    with pytest.warns(SingleSampleWarning, match=r"K = 1 posterior sample: BALD-type scores"):
        assert bald(good(k=1)).abs().max() < 1e-6  # float32 input: terms in float32
    with pytest.warns(SingleSampleWarning):
        batchbald(good(k=1), 2)


def test_few_samples_warns_once_in_sampled_phase():
    with pytest.warns(FewSamplesWarning, match=r"num_samples = 20 < 10·K = 40") as record:
        batchbald(good(n=8), 5, num_samples=20, generator=torch.Generator().manual_seed(0))
    assert sum(issubclass(w.category, FewSamplesWarning) for w in record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewSamplesWarning)
        batchbald(good(n=8), 2, num_samples=20)  # exact phase only: 3^2 ≤ 20


def test_saturation_warns_once_with_the_pick():
    # K = 2 samples that disagree completely: one pick already carries log 2 nats.
    probs = torch.tensor([[[0.999, 0.001], [0.001, 0.999]]]).expand(4, 2, 2).double()
    with pytest.warns(JointMutualInformationSaturationWarning, match=r"at pick 1 of 3") as record:
        batchbald(probs.log(), 3)
    assert sum(issubclass(w.category, JointMutualInformationSaturationWarning) for w in record) == 1


# Hyperparameters are checked against the acquirers' declarations wherever they enter: the
# Python API, `batchbald acquire --param` and a config's `params` table (one message each).


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lazy": "no"}, r"^lazy must be a bool; got 'no' \(str\)$"),
        ({"num_samples": True}, r"^num_samples must be an int; got True \(bool\)$"),
        ({"num_samples": 2.5}, r"^num_samples must be an int; got 2\.5 \(float\)$"),
        ({"max_memory_bytes": 0}, r"^max_memory_bytes must be an int ≥ 1; got 0$"),
    ],
)
def test_greedy_functions_check_declared_params(kwargs, message):
    from batchbald.acquisition import batch_eig, batch_evaluation_bald, get_acquirer

    with pytest.raises(InvalidInputError, match=message):
        batchbald(good(), 3, **kwargs)
    for fn in (batch_eig, batch_evaluation_bald):
        with pytest.raises(InvalidInputError, match=message):
            fn(good(), good(), 3, **kwargs)
    with pytest.raises(InvalidInputError, match=message):
        get_acquirer("batchbald", **kwargs)


def test_check_params_converts_to_the_declared_types():
    from batchbald.acquisition import check_params

    assert check_params("batchbald", {"dtype": torch.float32, "lazy": False}) == {
        "dtype": "float32",
        "lazy": False,
    }
    assert check_params("power_bald", {"coldness": math.inf}) == {"coldness": math.inf}
    assert check_params("power_bald", {"coldness": np.int64(8)}) == {"coldness": 8.0}


def _acquire(tmp_path, capsys, *params):
    from batchbald.cli import main

    path = tmp_path / "log_probs.npy"
    np.save(path, good().numpy())
    argv = ["acquire", str(path), "--method", "batchbald", "--batch-size", "2"]
    for param in params:
        argv += ["--param", param]
    status = main(argv)
    return status, capsys.readouterr()


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("lazy=no", "lazy must be a bool; got 'no' (str)"),
        ("num_samples=1.5", "num_samples must be an int; got 1.5 (float)"),
        ("dtype=float16", 'dtype must be "float32" or "float64"'),
        ("coldness=2", "acquirer 'batchbald' has no parameter 'coldness'"),
    ],
)
def test_cli_rejects_bad_params_in_one_line(tmp_path, capsys, param, message):
    status, captured = _acquire(tmp_path, capsys, param)
    assert status == 2 and captured.out == ""
    assert captured.err.startswith(f"batchbald acquire: error: {message}")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_cli_accepts_declared_params(tmp_path, capsys):
    status, captured = _acquire(tmp_path, capsys, "lazy=false", "dtype=float32", "num_samples=50")
    assert status == 0 and "picked 2 of" in captured.out


def test_config_names_the_params_key(tmp_path):
    from batchbald.errors import ConfigError
    from batchbald.experiments.config import load_config

    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[[methods]]\nacquirer = "bald"\nbatch_size = 2\n'
        '[[methods]]\nacquirer = "batchbald"\nbatch_size = 2\nparams = { lazy = "no" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"methods\[1\]\.params\.lazy must be a bool; got 'no'"):
        load_config(path)
