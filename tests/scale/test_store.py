"""The log-probability store: round trip, resumption, and every corruption as a named error."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from batchbald.errors import InvalidInputError, StoreError
from batchbald.scale import StoreWriter, open_store
from batchbald.scale.store import MANIFEST, shard_name

from ._pools import random_pool, write_store


def test_round_trip_sharded_and_single_file(tmp_path):
    log_probs = random_pool(103, 4, 3, seed=0)
    store = write_store(tmp_path / "s", log_probs, shard_rows=16)
    assert store.shape == (103, 4, 3) and len(store.parts) == 7
    store.verify()
    np.save(tmp_path / "p.npy", log_probs.numpy())
    single = open_store(tmp_path / "p.npy")
    for opened in (store, single):
        chunks = list(opened.chunks(10))
        assert [start for start, _ in chunks][:3] == [0, 10, 16] or opened is single
        assert torch.equal(torch.cat([chunk for _, chunk in chunks]), log_probs)
        picks = np.array([102, 0, 17, 17, 64])
        assert torch.equal(opened.take(picks), log_probs[picks])


def test_interrupted_job_resumes_and_never_reads_a_partial_store(tmp_path):
    log_probs = random_pool(50, 2, 3, seed=1)
    path = tmp_path / "s"
    writer = StoreWriter(path, num_rows=50, num_samples=2, num_classes=3, shard_rows=20)
    writer.write(0, log_probs[writer.rows_of(0)])
    # A crash mid-shard leaves at most a temporary file, never a listed shard.
    (path / f".{shard_name(1)}.tmp-999").write_bytes(b"partial")
    with pytest.raises(StoreError, match=r"incomplete: 2 of 3 shards \(30 rows\) not written"):
        open_store(path)
    resumed = StoreWriter(path, num_rows=50, num_samples=2, num_classes=3, shard_rows=20)
    assert resumed.pending == [1, 2]
    for index in resumed.pending:
        resumed.write(index, log_probs[resumed.rows_of(index)])
    assert torch.equal(open_store(path).take(np.arange(50)), log_probs)


def test_resuming_with_another_layout_is_an_error(tmp_path):
    StoreWriter(tmp_path / "s", num_rows=10, num_samples=2, num_classes=3, shard_rows=4)
    with pytest.raises(StoreError, match=r"was begun with \{'num_samples': 2\}; this job writes"):
        StoreWriter(tmp_path / "s", num_rows=10, num_samples=5, num_classes=3, shard_rows=4)


def test_shards_disagreeing_in_k_or_c(tmp_path):
    store_path = tmp_path / "s"
    write_store(store_path, random_pool(8, 2, 3, seed=2), shard_rows=4)
    np.save(store_path / shard_name(1), random_pool(4, 2, 5, seed=3).numpy())
    with pytest.raises(StoreError, match=r"holds float32 \(4, 2, 5\); the manifest says float32"):
        open_store(store_path)
    np.save(store_path / shard_name(1), random_pool(4, 3, 3, seed=3).numpy())
    with pytest.raises(StoreError, match=r"shards must agree in K and C"):
        open_store(store_path)


def test_truncated_shard_and_checksum(tmp_path):
    store_path = tmp_path / "s"
    write_store(store_path, random_pool(8, 2, 3, seed=4), shard_rows=4)
    shard = store_path / shard_name(0)
    data = shard.read_bytes()
    shard.write_bytes(data[:-5])
    with pytest.raises(StoreError, match=r"truncated or padded: \d+ bytes, its header needs"):
        open_store(store_path)
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF
    shard.write_bytes(bytes(flipped))
    with pytest.raises(StoreError, match="fails its checksum"):
        open_store(store_path).verify()


def test_bad_inputs(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing")
    (tmp_path / "d").mkdir()
    with pytest.raises(StoreError, match=f"has no {MANIFEST}"):
        open_store(tmp_path / "d")
    (tmp_path / "d" / MANIFEST).write_text(json.dumps({"format": "other"}))
    with pytest.raises(StoreError, match="is not a batchbald-log-probs manifest"):
        open_store(tmp_path / "d")
    writer = StoreWriter(tmp_path / "w", num_rows=4, num_samples=2, num_classes=3, shard_rows=4)
    with pytest.raises(InvalidInputError, match=r"shard 0 must be float32 \(4, 2, 3\); got"):
        writer.write(0, np.zeros((3, 2, 3), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="shard_rows must be an int ≥ 1; got 0"):
        StoreWriter(tmp_path / "x", num_rows=4, num_samples=2, num_classes=3, shard_rows=0)
