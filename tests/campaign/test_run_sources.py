"""``batchbald run`` configs read pool sources: ``[data] source`` / ``test_source``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from batchbald.data.source_data import load_source_splits, source_image_data
from batchbald.errors import ConfigError, DataError
from batchbald.experiments.components import prepare_data
from batchbald.experiments.config import config_from_dict


def _config(**data):
    table = {"name": "x", "methods": [{"acquirer": "random", "batch_size": 2}], "data": data}
    return config_from_dict(table)


def test_source_needs_a_test_source_unless_labels_only():
    with pytest.raises(ConfigError, match="test_source is required with source"):
        _config(source="folder:/x")
    assert _config(source="folder:/x", validation_size=0).data.test_source == ""


def test_folder_source_gives_labelled_data(tmp_path):
    for name, value in (("cat", 10), ("dog", 200)):
        for i in range(3):
            (tmp_path / "train" / name).mkdir(parents=True, exist_ok=True)
            Image.new("L", (28, 28), value + i).save(tmp_path / "train" / name / f"{i}.png")
    Image.new("L", (28, 28), 5).save(tmp_path / "train" / "unlabelled.png")
    data = source_image_data(f"folder:{tmp_path / 'train'}")
    assert data.class_names == ("cat", "dog") and data.labels.tolist() == [0, 0, 0, 1, 1, 1, -1]
    splits = prepare_data(
        _config(source=f"folder:{tmp_path / 'train'}", initial="none", validation_size=0).data
    )
    assert len(splits.train) == 7 and len(splits.test) == 0
    assert load_source_splits(f"folder:{tmp_path / 'train'}", "").name == "source"


def test_unlabelled_or_unreadable_sources_are_data_errors(tmp_path):
    np.savez(tmp_path / "a.npz", images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="≥ 2 classes"):
        source_image_data(f"npz:{tmp_path / 'a.npz'}")
    (tmp_path / "f" / "cat").mkdir(parents=True)
    (tmp_path / "f" / "cat" / "x.png").write_bytes(b"broken")
    with pytest.raises(DataError, match="1 unreadable items"):
        source_image_data(f"folder:{tmp_path / 'f'}")
