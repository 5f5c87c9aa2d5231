"""Datasets, dataset transforms and the labelled/pool/validation split."""

from batchbald.data.dataset import ImageData

__all__ = ["ImageData"]
