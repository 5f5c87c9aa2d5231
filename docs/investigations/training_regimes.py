"""Training cost per example of the two papers' training regimes, side by side in one process.

    .venv/bin/python benchmarks/training_regimes.py [--epochs 2] [--threads 1] [--layouts]

Trains the MNIST CNN from the same initialisation on 20 random labelled images for a fixed
number of epochs (patience never triggers) with a 4,096-image validation set, under the
BatchBALD regime (epochs of 5,056 examples, validation with dropout off) and the
PowerEvaluationBALD report's (epochs of 24,576, weight decay 5e-4, NLL early stopping,
validation with 4 MC samples), plus the report's regime without weight decay and without MC
validation. Prints seconds and milliseconds per training example (validation included).

With ``--layouts`` it times the BatchBALD and report regimes with the convolution weights in
the default and in the channels-last memory format (``TrainingConfig.channels_last``), the two
layouts alternating in each of ``--repeats`` rounds, and prints medians and their ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from batchbald.data.dataset import ImageData
from batchbald.models import MNISTBayesianCNN
from batchbald.training.config import TrainingConfig
from batchbald.training.train import train_model


def random_images(count: int, generator: torch.Generator) -> ImageData:
    inputs = torch.randn(count, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    return ImageData(inputs=inputs, labels=labels, num_classes=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--layouts", action="store_true", help="default vs channels-last")
    parser.add_argument("--repeats", type=int, default=3, help="rounds for --layouts")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    train, validation = random_images(20, generator), random_images(4096, generator)
    fixed = {"max_epochs": args.epochs, "patience": args.epochs + 1}
    report = {"epoch_size": 24576, "early_stopping": "nll", **fixed}
    regimes = {
        "BatchBALD (5,056 per epoch, validation dropout off)": TrainingConfig(
            epoch_size=5056, **fixed
        ),
        "report (24,576 per epoch, wd 5e-4, NLL, validation k = 4)": TrainingConfig(
            weight_decay=5e-4, validation_samples=4, **report
        ),
        "report without weight decay": TrainingConfig(validation_samples=4, **report),
        "report with validation dropout off": TrainingConfig(weight_decay=5e-4, **report),
    }
    if args.layouts:
        compare_layouts(regimes, train, validation, args.epochs, args.repeats)
        return
    print(f"| regime | seconds for {args.epochs} epochs | ms per training example |")
    print("|---|---|---|")
    for name, config in regimes.items():
        seconds = time_training(config, train, validation)
        per_example = 1000 * seconds / (args.epochs * config.epoch_size)
        print(f"| {name} | {seconds:.1f} | {per_example:.2f} |", flush=True)


def time_training(config: TrainingConfig, train: ImageData, validation: ImageData) -> float:
    model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    train_model(model, train, validation, config, generator=torch.Generator().manual_seed(2))
    return time.perf_counter() - start


def compare_layouts(
    regimes: dict[str, TrainingConfig],
    train: ImageData,
    validation: ImageData,
    epochs: int,
    repeats: int,
) -> None:
    print(
        f"| regime | default layout, ms per example | channels-last, ms per example | "
        f"speed-up (median of {repeats}) |"
    )
    print("|---|---|---|---|")
    for name in list(regimes)[:2]:
        seconds: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats):
            for channels_last in (False, True):
                config = dataclasses.replace(regimes[name], channels_last=channels_last)
                seconds[channels_last].append(time_training(config, train, validation))
        per_example = {
            layout: 1000 * statistics.median(times) / (epochs * regimes[name].epoch_size)
            for layout, times in seconds.items()
        }
        print(
            f"| {name} | {per_example[False]:.3f} | {per_example[True]:.3f} | "
            f"{per_example[False] / per_example[True]:.2f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
