"""predict_log_probs: consistent masks, chunk-size independence, mode restoration, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import InvalidInputError
from batchbald.models import (
    BayesianModule,
    ConsistentMCDropout,
    MNISTBayesianCNN,
    predict_deterministic,
    predict_log_probs,
    prepared_masks,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class TinyMLP(BayesianModule):
    """A generic BayesianModule (no fast path): linear -> dropout -> ReLU -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(6, 32)
        self.drop = ConsistentMCDropout(0.5)
        self.out = nn.Linear(32, 3)

    def deterministic(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.hidden(inputs)

    def stochastic(self, hidden, k, *, generator):
        return F.log_softmax(self.out(F.relu(self.drop(hidden, k, generator=generator))), dim=1)


@pytest.fixture(scope="module")
def mnist_model() -> MNISTBayesianCNN:
    return MNISTBayesianCNN(generator=_gen(0))


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(130, 1, 28, 28, generator=_gen(1))


def test_independent_of_batch_size(mnist_model, images):
    results = [
        predict_log_probs(mnist_model, images, 5, batch_size=size, generator=_gen(2))
        for size in (1, 64, 1000)
    ]
    assert results[0].shape == (130, 5, 10)  # 1000 > N: a single chunk
    assert results[0].dtype == torch.float32
    assert torch.equal(results[0], results[1])
    assert torch.equal(results[0], results[2])


@pytest.mark.parametrize(("k", "inputs"), [(5, 12), (20, 12), (100, 10), (2000, 1)])
def test_mnist_default_chunk_is_capped_and_changes_nothing(mnist_model, images, k, inputs):
    seen = []
    predict_log_probs(mnist_model, images[:30], k, generator=_gen(2),
                      progress=lambda done, total: seen.append(done))  # fmt: skip
    assert seen[0] == min(inputs, 30)  # min(1,024 // k, 12) inputs per default chunk
    if k <= 20:
        default = predict_log_probs(mnist_model, images, k, generator=_gen(2))
        wide = predict_log_probs(mnist_model, images, k, batch_size=51, generator=_gen(2))
        assert torch.equal(default, wide)


def test_generic_module_independent_of_batch_size():
    model = TinyMLP()
    inputs = torch.randn(100, 6, generator=_gen(0))
    results = [
        predict_log_probs(model, inputs, 4, batch_size=size, generator=_gen(1))
        for size in (1, 7, 100)
    ]
    assert torch.equal(results[0], results[1])
    assert torch.equal(results[0], results[2])


def test_equals_generic_forward_with_the_same_masks(mnist_model, images):
    fast = predict_log_probs(mnist_model, images[:20], 8, generator=_gen(3))
    with torch.no_grad(), prepared_masks(mnist_model, 8, generator=_gen(3)):
        generic = mnist_model(images[:20], 8)
    torch.testing.assert_close(fast, generic, atol=1e-4, rtol=0)


def test_masks_come_from_the_generator(mnist_model, images):
    first = predict_log_probs(mnist_model, images[:10], 4, generator=_gen(5))
    again = predict_log_probs(mnist_model, images[:10], 4, generator=_gen(5))
    other = predict_log_probs(mnist_model, images[:10], 4, generator=_gen(6))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    # K = 4 samples are a prefix-free draw: the first sample is not repeated by the others.
    assert not torch.equal(first[:, 0], first[:, 1])


def test_restores_mode_and_forgets_masks(mnist_model, images):
    mnist_model.train()
    predict_log_probs(mnist_model, images[:3], 2, generator=_gen(0))
    assert mnist_model.training
    assert all(layer.prepared_samples is None for layer in mnist_model.dropout_layers())
    mnist_model.eval()
    predict_deterministic(mnist_model, images[:3])
    assert not mnist_model.training


def test_progress_reports_each_chunk(mnist_model, images):
    calls: list[tuple[int, int]] = []
    predict_log_probs(
        mnist_model,
        images[:25],
        2,
        batch_size=10,
        generator=_gen(0),
        progress=lambda *a: calls.append(a),
    )
    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_deterministic_is_dropout_off(mnist_model, images):
    log_probs = predict_deterministic(mnist_model, images[:4], batch_size=3)
    assert log_probs.shape == (4, 1, 10)
    model = mnist_model
    with torch.no_grad():
        h = F.relu(F.max_pool2d(model.conv1(images[:4]), 2))
        h = F.relu(F.max_pool2d(model.conv2(h), 2)).flatten(1)
        expected = F.log_softmax(model.fc2(F.relu(model.fc1(h))), dim=1)
    torch.testing.assert_close(log_probs[:, 0], expected, atol=1e-5, rtol=0)


def test_keeps_inputs_device_and_casts_dtype(mnist_model, images):
    out = predict_log_probs(mnist_model, images[:3].double(), 2, generator=_gen(0))
    assert out.dtype == torch.float32
    assert out.device == images.device


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, r"k \(MC dropout samples\) must be an int ≥ 1; got 0"),
        ({"k": 2, "batch_size": 0}, "batch_size must be an int ≥ 1 or None; got 0"),
        ({"k": 2, "inputs": torch.zeros(0, 1, 28, 28)}, "at least one point; got N = 0"),
        ({"k": 2, "inputs": torch.zeros(3, 1, 28, 28, dtype=torch.long)}, "must be a float tensor"),
    ],
)
def test_rejects_bad_arguments(mnist_model, images, kwargs, message):
    arguments = {"inputs": images[:2], **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        predict_log_probs(mnist_model, arguments.pop("inputs"), **arguments)


def test_rejects_plain_modules(images):
    with pytest.raises(
        InvalidInputError, match=r"model must be a batchbald\.models\.BayesianModule"
    ):
        predict_log_probs(nn.Linear(3, 2), images[:2], 2)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_parallel_chunks_change_nothing(mnist_model, images, threads):
    """The paper CNN's chunks are scored by torch.get_num_threads() threads: same bits."""
    assert MNISTBayesianCNN.parallel_chunks and not TinyMLP.parallel_chunks
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        reference = predict_log_probs(mnist_model, images, 20, batch_size=7, generator=_gen(4))
        deterministic_reference = predict_deterministic(mnist_model, images, batch_size=7)
        torch.set_num_threads(threads)
        calls: list[int] = []
        parallel = predict_log_probs(mnist_model, images, 20, batch_size=7, generator=_gen(4),
                                     progress=lambda done, total: calls.append(done))  # fmt: skip
        assert torch.get_num_threads() == threads  # restored after the workers
        assert torch.equal(parallel, reference)
        assert calls == [*range(7, 130, 7), 130]  # in order, once per chunk
        assert torch.equal(predict_deterministic(mnist_model, images, batch_size=7),
                           deterministic_reference)  # fmt: skip
    finally:
        torch.set_num_threads(before)


def test_parallel_chunks_stop_on_a_failing_progress_callback(mnist_model, images):
    before = torch.get_num_threads()
    torch.set_num_threads(2)

    def progress(done: int, total: int) -> None:
        if done >= 21:
            raise RuntimeError("stop")

    try:
        with pytest.raises(RuntimeError, match="stop"):
            predict_log_probs(mnist_model, images, 4, batch_size=7, generator=_gen(0),
                              progress=progress)  # fmt: skip
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_parallel_chunks_from_a_background_thread(mnist_model, images):
    """As a campaign's propose runs them (a web server's worker thread): same bits, threads kept."""
    import threading

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        expected = predict_log_probs(mnist_model, images, 3, batch_size=9, generator=_gen(8))
        results: list[torch.Tensor] = []
        worker = threading.Thread(target=lambda: results.append(predict_log_probs(
            mnist_model, images, 3, batch_size=9, generator=_gen(8))))  # fmt: skip
        worker.start()
        worker.join()
        assert torch.equal(results[0], expected)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_two_parallel_scorings_at_once_keep_bits_and_threads(mnist_model, images):
    """Concurrent callers (each with its own model: masks are a model's state): one scores in
    parallel, the other in order; the same bits, and the thread count ends as it began."""
    import copy
    import threading

    models = [mnist_model, copy.deepcopy(mnist_model)]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        expected = predict_log_probs(mnist_model, images, 3, batch_size=5, generator=_gen(9))
        results: list[torch.Tensor] = []
        barrier = threading.Barrier(2)

        def score(model: MNISTBayesianCNN) -> None:
            barrier.wait()
            results.append(predict_log_probs(model, images, 3, batch_size=5, generator=_gen(9)))

        workers = [threading.Thread(target=score, args=(model,)) for model in models]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(results) == 2 and all(torch.equal(r, expected) for r in results)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
