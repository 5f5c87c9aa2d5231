"""A fast stand-in learner and data for loop, runner and CLI tests.

``NearestMeanLearner`` is a nearest-class-mean classifier whose K "posterior samples" jitter the
class means with noise from the dropout generator. It consumes every generator the way a real
learner does (init, training, dropout), so resume tests are meaningful, and runs in
milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from batchbald.data import ImageData
from batchbald.loop import Fitted, LoopGenerators


def toy_data(num_points: int, *, num_classes: int = 4, seed: int = 0, side: int = 4) -> ImageData:
    """Gaussian clusters in ``[N, 1, side, side]`` (labels cycle through the classes)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_points) % num_classes
    centres = torch.randn(num_classes, 1, side, side, generator=torch.Generator().manual_seed(99))
    inputs = centres[labels] + 0.9 * torch.randn(num_points, 1, side, side, generator=generator)
    return ImageData(inputs, labels, num_classes)


@dataclass
class NearestMeans:
    means_C_D: torch.Tensor
    temperature: float


class NearestMeanLearner:
    """Implements :class:`batchbald.loop.Learner` with a nearest-class-mean rule."""

    def __init__(self, num_classes: int, *, jitter: float = 0.5) -> None:
        self.num_classes = num_classes
        self.jitter = jitter
        self.fit_calls = 0
        self.distill_calls: list[int] = []

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        self.fit_calls += 1
        flat = train.inputs.flatten(1)
        means = torch.randn(self.num_classes, flat.shape[1], generator=generators.init)
        for c in range(self.num_classes):
            rows = flat[train.labels == c]
            if len(rows):
                means[c] = rows.mean(0)
        # "Training" consumes the training generator like minibatch shuffles would.
        epochs = 1 + int(torch.randint(0, 3, (), generator=generators.training))
        model = NearestMeans(means, temperature=float(flat.shape[1]))
        accuracy = self.evaluate(model, validation, generators)[0] if len(validation) else math.nan
        return Fitted(
            model, epochs_trained=epochs + 1, best_epoch=epochs, validation_accuracy=accuracy
        )

    def predict(self, model: NearestMeans, inputs, k: int, generators: LoopGenerators):
        flat = inputs.flatten(1)
        noise = torch.randn(k, *model.means_C_D.shape, generator=generators.dropout)
        means_K_C_D = model.means_C_D + self.jitter * noise
        distances_N_K_C = torch.cdist(flat.unsqueeze(0).expand(k, -1, -1), means_K_C_D).square()
        return torch.log_softmax(-distances_N_K_C / model.temperature * 4, dim=-1).permute(1, 0, 2)

    def evaluate(self, model: NearestMeans, data: ImageData, generators: LoopGenerators):
        log_probs = self.predict(model, data.inputs, 4, generators)
        probs = log_probs.exp().mean(1)
        accuracy = float((probs.argmax(-1) == data.labels).double().mean())
        nll = float(-probs.clamp_min(1e-12).log()[torch.arange(len(data)), data.labels].mean())
        return accuracy, nll

    def distill(self, teacher: NearestMeans, inputs, epochs: int, generators: LoopGenerators):
        self.distill_calls.append(epochs)
        noise = torch.randn(teacher.means_C_D.shape, generator=generators.init)
        return NearestMeans(teacher.means_C_D + 0.1 * noise, teacher.temperature)
