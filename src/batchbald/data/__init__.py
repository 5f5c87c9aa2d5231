"""Datasets, dataset transforms (real-world flaws) and the labelled/pool/validation split.

- Loading: :func:`load_dataset` (``mnist``, ``fashion_mnist``, ``emnist_balanced`` and anything
  added with :func:`register_idx_dataset`), :func:`read_idx`.
- Flaws, each ``ImageData -> ImageData`` with an explicit generator: :func:`repeated`,
  :func:`class_imbalance`, :func:`noisy_oracle` / :func:`noisy_labels`,
  :func:`heteroscedastic_noise`, :func:`ood_contamination`; :func:`apply_flaws` for configs.
- The split: :class:`ActiveLearningData`, :func:`make_split` and the initial-set helpers.

See ``docs/data.md``.
"""

from batchbald.data.catalog import (
    ArchiveSource,
    IdxDatasetSpec,
    available_datasets,
    get_dataset_spec,
    register_idx_dataset,
)
from batchbald.data.dataset import NO_CLASS, ImageData
from batchbald.data.download import Checksum
from batchbald.data.flaws import class_imbalance, heteroscedastic_noise, long_tail_fractions
from batchbald.data.idx import read_idx, write_idx
from batchbald.data.initial import (
    PAPER_MNIST_INITIAL_INDICES,
    balanced_initial_indices,
    make_split,
    random_validation_indices,
)
from batchbald.data.label_noise import noisy_labels, noisy_oracle, symmetric_transition_matrix
from batchbald.data.loading import DatasetSplits, load_dataset
from batchbald.data.locations import default_cache_dir, resolve_data_dir
from batchbald.data.ood import concatenate, ood_contamination
from batchbald.data.pipeline import FLAWS, apply_flaws
from batchbald.data.repeated import repeated, repeated_source_index
from batchbald.data.split import ActiveLearningData

__all__ = [
    "FLAWS",
    "NO_CLASS",
    "PAPER_MNIST_INITIAL_INDICES",
    "ActiveLearningData",
    "ArchiveSource",
    "Checksum",
    "DatasetSplits",
    "IdxDatasetSpec",
    "ImageData",
    "apply_flaws",
    "available_datasets",
    "balanced_initial_indices",
    "class_imbalance",
    "concatenate",
    "default_cache_dir",
    "get_dataset_spec",
    "heteroscedastic_noise",
    "load_dataset",
    "long_tail_fractions",
    "make_split",
    "noisy_labels",
    "noisy_oracle",
    "ood_contamination",
    "random_validation_indices",
    "read_idx",
    "register_idx_dataset",
    "repeated",
    "repeated_source_index",
    "resolve_data_dir",
    "symmetric_transition_matrix",
    "write_idx",
]
