"""The real MNIST from /work/shared/datasets (skipped when absent), decoded once per session."""

from __future__ import annotations

import torch

from batchbald.data import PAPER_MNIST_INITIAL_INDICES, make_split, repeated


def test_sizes_labels_and_normalisation(mnist) -> None:
    train, test = mnist.train, mnist.test
    assert train.inputs.shape == (60_000, 1, 28, 28) and test.inputs.shape == (10_000, 1, 28, 28)
    assert train.inputs.dtype == torch.float32 and train.labels.dtype == torch.int64
    # Label counts from /work/shared/datasets/README.md.
    assert torch.bincount(train.labels).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]  # fmt: skip
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first MNIST digits
    # (0 - 0.1307) / 0.3081 and (1 - 0.1307) / 0.3081: background and full ink.
    assert abs(train.inputs.min().item() + 0.424212917) < 1e-6
    assert abs(train.inputs.max().item() - 2.821486525) < 1e-6
    # With MNIST's own statistics the training inputs are standardised.
    assert abs(train.inputs.mean().item()) < 1e-3 and abs(train.inputs.std().item() - 1) < 1e-3


def test_paper_initial_set_has_two_of_each_digit(mnist) -> None:
    labels = mnist.train.labels[list(PAPER_MNIST_INITIAL_INDICES)]
    assert torch.bincount(labels, minlength=10).tolist() == [2] * 10


def test_paper_split_on_mnist(mnist) -> None:
    split = make_split(
        mnist.train.labels,
        initial="paper_mnist",
        validation_size=1024,
        generator=torch.Generator().manual_seed(0),
    )
    assert split.num_labelled == 20 and len(split.validation_indices) == 1024
    assert split.pool_size == 60_000 - 20 - 1024


def test_paper_indices_address_the_first_copy_of_repeated_mnist(mnist) -> None:
    # A 2,000-point slice keeps the test fast; the layout does not depend on N.
    base = mnist.train.subset(torch.arange(2000))
    rep = repeated(base, 3, generator=torch.Generator().manual_seed(0))
    assert len(rep) == 6000
    assert torch.equal(rep.labels[:2000], base.labels)
    assert torch.equal(rep.labels[4000:], base.labels)
    noise = rep.inputs[2000:4000] - base.inputs
    assert abs(noise.std().item() - 0.1) < 0.002  # 1.6M draws: σ error ≈ 0.1/sqrt(2·1.6M)
