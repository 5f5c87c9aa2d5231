"""Fixtures for the data tests: an isolated environment, tiny IDX datasets, real MNIST."""

from __future__ import annotations

import io
import itertools
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from batchbald.data import load_dataset, write_idx
from batchbald.data.catalog import _REGISTRY
from batchbald.data.download import file_checksum
from batchbald.data.locations import resolve_data_dir

#: The data directory as the library resolves it before any test runs (``$BATCHBALD_DATA_DIR``,
#: which ``make test`` sets to ``../shared/datasets`` when that folder exists, else the user
#: cache); the real-MNIST tests skip when MNIST is not there.
SHARED_MNIST = resolve_data_dir().resolve()
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
_names = itertools.count()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads $BATCHBALD_DATA_DIR or writes to the real ~/.cache."""
    home = tmp_path / "home"
    monkeypatch.delenv("BATCHBALD_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("BATCHBALD_CACHE_DIR", str(tmp_path / "decoded-cache"))
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def restore_registry() -> Iterator[None]:
    """Datasets registered by a test disappear after it."""
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def tiny_arrays(
    num_train: int = 12, num_test: int = 6, num_classes: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random 28x28 uint8 images with labels cycling over the classes."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(num_train) % num_classes).astype(np.uint8),
        "test_images": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(num_test) % num_classes).astype(np.uint8),
    }


def write_dataset(folder: Path, arrays: dict[str, np.ndarray], *, gz: bool = True) -> dict:
    """Write the four files with MNIST's names into ``folder``; returns role -> path."""
    paths = {}
    for role, name in MNIST_FILES.items():
        target = folder / (name if gz else name.removesuffix(".gz"))
        paths[role] = write_idx(target, arrays[role])
    return paths


def unique_name(prefix: str = "tiny") -> str:
    return f"{prefix}_{next(_names)}"


def checksums_of(paths: dict) -> dict[str, str]:
    return {p.name: "sha256:" + file_checksum(p, "sha256") for p in paths.values()}


class FakeOpener:
    """``opener(url)`` serving bytes from a dict; unknown URLs raise like a 404."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[str] = []

    def __call__(self, url: str) -> io.BytesIO:
        self.calls.append(url)
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)  # type: ignore[arg-type]
        return io.BytesIO(self.files[url])


@pytest.fixture
def fake_opener() -> Callable[[dict[str, bytes]], FakeOpener]:
    return FakeOpener


@pytest.fixture(scope="session")
def mnist(tmp_path_factory: pytest.TempPathFactory):
    """The real MNIST, decoded once per session; skips when the shared copy is absent."""
    if not (SHARED_MNIST / "mnist" / MNIST_FILES["train_images"]).is_file():
        pytest.skip(f"MNIST is not available in {SHARED_MNIST}")
    cache = tmp_path_factory.mktemp("mnist-cache")
    return load_dataset("mnist", data_dir=SHARED_MNIST, download=False, cache=cache)
