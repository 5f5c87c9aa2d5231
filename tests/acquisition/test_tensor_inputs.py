"""Tensors of the wrong kind reach every acquirer and score through one check (issue 25).

``as_tensor`` / ``check_log_probs`` in ``acquisition/_validation.py``: tensors that require
grad are detached (documented), half precision names its dtype, meta tensors and numpy
string/object arrays are named errors; the CLI reports the same messages on one line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from batchbald.acquisition import (
    available_acquirers,
    bald,
    entropy,
    get_acquirer,
    mean_std,
    stochastic_batch,
    top_k,
    variation_ratios,
)
from batchbald.errors import BatchBALDWarning, InvalidInputError

N, K, C, B = 12, 6, 3, 3


def pool(seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(N, K, C, generator=generator).log_softmax(-1)


def acquire(name: str, log_probs, batch_size: int = B):
    acquirer = get_acquirer(name)
    extra = {}
    if acquirer.needs_eval_model:
        extra["eval_log_probs_N_K_C"] = pool(9)
    if acquirer.needs_embeddings:
        extra["embeddings_N_D"] = torch.randn(N, 4, generator=torch.Generator().manual_seed(1))
        extra["labelled_embeddings_L_D"] = torch.zeros(0, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BatchBALDWarning)
        return acquirer(log_probs, batch_size, generator=torch.Generator().manual_seed(0), **extra)


BAD_TENSORS = [
    (
        lambda: pool().bfloat16(),
        r"^log_probs_N_K_C must be float32 or float64; got dtype torch.bfloat16 .*\.float\(\)",
    ),
    (lambda: pool().half(), r"^log_probs_N_K_C must be float32 or float64; got dtype .*float16"),
    (
        lambda: pool().to("meta"),
        r"^log_probs_N_K_C must hold data; got a tensor on the meta device \(shape \(12, 6, 3\)",
    ),
    (
        lambda: pool().numpy().astype(object),
        r"^log_probs_N_K_C must be a numeric array \(float32 or float64\); got a numpy array of "
        r"dtype object \(Python objects\)$",
    ),
    (
        lambda: np.full((N, K, C), "0.3"),
        r"^log_probs_N_K_C must be a numeric array .*got a numpy array of dtype <U3 \(strings\)$",
    ),
    (
        lambda: torch.zeros(N, K, C, dtype=torch.int32),
        r"^log_probs_N_K_C must be a floating tensor \(float32 or float64\) .*got dtype "
        r"torch.int32",
    ),
    (lambda: pool()[:, 0], r"^log_probs_N_K_C must be 3-D \[N, K, C\] .*got shape \(12, 3\)"),
    (lambda: ["a", "b"], r"^log_probs_N_K_C must be a torch.Tensor or numpy array; got list$"),
]


@pytest.mark.parametrize("name", [n for n in available_acquirers() if n not in ("random",)])
@pytest.mark.parametrize(("make", "message"), BAD_TENSORS)
def test_every_acquirer_names_the_bad_tensor(name, make, message):
    with pytest.raises(InvalidInputError, match=message):
        acquire(name, make())


@pytest.mark.parametrize(("make", "message"), BAD_TENSORS)
def test_random_names_the_bad_tensor_too(make, message):
    """random only reads N, but a tensor it is given is still checked."""
    with pytest.raises(InvalidInputError, match=message):
        acquire("random", make())


@pytest.mark.parametrize("score", [bald, entropy, variation_ratios, mean_std])
@pytest.mark.parametrize(("make", "message"), BAD_TENSORS)
def test_every_score_names_the_bad_tensor(score, make, message):
    with pytest.raises(InvalidInputError, match=message):
        score(make())


@pytest.mark.parametrize("name", available_acquirers())
def test_requires_grad_is_detached_with_the_same_result(name):
    """A pool scored outside torch.no_grad() gives the detached pool's picks, no autograd error."""
    plain = pool(3)
    with_grad = plain.clone().requires_grad_(True)
    expected, result = acquire(name, plain), acquire(name, with_grad)
    assert result.indices.tolist() == expected.indices.tolist()
    assert torch.equal(result.scores, expected.scores)
    assert not result.scores.requires_grad and with_grad.grad is None


def test_scores_of_a_tensor_that_requires_grad_carry_no_gradient():
    log_probs = pool(4).requires_grad_(True)
    scores = bald(log_probs)
    assert not scores.requires_grad
    assert torch.equal(scores, bald(log_probs.detach()))


def test_selection_helpers_share_the_checks():
    scores = torch.tensor([0.1, 0.5, 0.2], requires_grad=True)
    assert top_k(scores, 1).indices.tolist() == [1]
    with pytest.raises(InvalidInputError, match=r"^scores_N must hold data; .*the meta device"):
        top_k(torch.zeros(3, device="meta"), 1)
    with pytest.raises(InvalidInputError, match=r"^scores_N must be a numeric array .*\(strings\)"):
        stochastic_batch(np.array(["a", "b"]), 1)


def test_big_endian_numpy_is_read_as_its_values():
    log_probs = pool(5)
    swapped = log_probs.numpy().astype(">f4")
    assert torch.equal(bald(swapped), bald(log_probs))


def _run_acquire(tmp_path, capsys, tensor, suffix=".pt"):
    from batchbald.cli import main

    path = tmp_path / f"log_probs{suffix}"
    if suffix == ".pt":
        torch.save(tensor, path)
    else:
        np.save(path, tensor)
    status = main(["acquire", str(path), "--method", "bald", "--batch-size", "2"])
    return status, capsys.readouterr()


@pytest.mark.parametrize(
    ("tensor", "suffix", "message"),
    [
        (pool().bfloat16(), ".pt", "got dtype torch.bfloat16"),
        (pool().numpy().astype(np.float16), ".npy", "got dtype torch.float16"),
    ],
)
def test_cli_names_the_dtype_in_one_line(tmp_path, capsys, tensor, suffix, message):
    status, captured = _run_acquire(tmp_path, capsys, tensor, suffix)
    assert status == 2 and captured.out == ""
    assert captured.err.startswith("batchbald acquire: error: log_probs_N_K_C must be float32")
    assert message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_cli_accepts_a_saved_tensor_that_requires_grad(tmp_path, capsys):
    status, captured = _run_acquire(tmp_path, capsys, pool().requires_grad_(True))
    assert status == 0 and "picked 2 of" in captured.out
