"""Pool sources: folders, manifests, arrays; stable ids; pool changes; decoding and its cache."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from batchbald.campaign import Campaign, UnknownItemError
from batchbald.data.pool_images import ImageFormat, PoolDecoder, pool_image_data
from batchbald.data.sources import (
    ArraySource,
    FolderSource,
    ManifestSource,
    UnreadableItemError,
    open_source,
)
from batchbald.errors import DataError, InvalidInputError

from .helpers import FAST


def _png(path, value=128, size=(32, 32), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value,) * 3).save(path)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    _png(root / "cat" / "a.png", 10)
    _png(root / "dog" / "b.jpg", 200, mode="RGB")
    _png(root / "new" / "deep" / "c.png", 50)
    _png(root / "d.png", 90)
    _png(root / ".hidden" / "e.png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_folder_items_ids_and_labels(folder):
    items = FolderSource(folder, ("cat", "dog", "fox")).scan()
    assert [(i.item_id, i.label) for i in items] == [
        ("cat/a.png", "cat"), ("d.png", None), ("dog/b.jpg", "dog"), ("new/deep/c.png", None),
    ]  # fmt: skip
    assert FolderSource(folder).scan()[3].label == "new"


def test_folder_scan_follows_file_links_not_folder_links(folder, tmp_path):
    """As ``os.walk``: a link to a file is an item, a link to a folder is not walked into."""
    _png(tmp_path / "elsewhere" / "x.png")
    (folder / "cat" / "linked.png").symlink_to(folder / "d.png")
    (folder / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    items = {i.item_id: i for i in FolderSource(folder, ("cat",)).scan()}
    assert sorted(items) == ["cat/a.png", "cat/linked.png", "d.png", "dog/b.jpg", "new/deep/c.png"]
    stat = (folder / "d.png").stat()
    assert items["cat/linked.png"].fingerprint == f"{stat.st_size}:{stat.st_mtime_ns}"
    assert items["cat/linked.png"].label == "cat"


def test_manifest_with_header_and_labels(tmp_path, folder):
    manifest = folder / "list.csv"
    manifest.write_text("path,label\ncat/a.png,cat\nd.png,\nmissing.png,dog\n")
    items = ManifestSource(manifest).scan()
    assert [(i.item_id, i.label) for i in items] == [("cat/a.png", "cat"), ("d.png", None)]
    manifest.write_text("d.png\nd.png\n")
    with pytest.raises(DataError, match=r"row 2 repeats path 'd\.png'"):
        ManifestSource(manifest).scan()
    manifest.write_text("../outside.png\n")
    with pytest.raises(InvalidInputError, match="relative path inside the pool"):
        ManifestSource(manifest).scan()


def test_arrays_source_and_spec_parsing(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    np.savez(tmp_path / "x.npz", images=images, labels=np.array([0, -1, 1]))
    source = open_source(str(tmp_path / "x.npz"))
    assert [(i.item_id, i.label) for i in source.scan()] == [
        ("row-00000000", "0"), ("row-00000001", None), ("row-00000002", "1"),
    ]  # fmt: skip
    payload, media = source.read_bytes("row-00000002")
    assert media == "image/png" and payload.startswith(b"\x89PNG")
    with pytest.raises(DataError, match="source must be folder:PATH"):
        open_source(str(tmp_path / "nothing"))
    with pytest.raises(InvalidInputError, match="images must be a non-empty uint8"):
        ArraySource(np.zeros((2, 4, 4), np.float32))


@pytest.mark.parametrize(
    "item_id", ["../x.png", "/etc/passwd", "cat/../../x", "a\\b.png", "", "cat//a.png"]
)
def test_traversal_is_refused(folder, item_id):
    with pytest.raises(InvalidInputError, match="item_id must be"):
        FolderSource(folder).read_bytes(item_id)


def test_symlink_out_of_the_pool_is_refused(folder, tmp_path):
    _png(tmp_path / "secret.png")
    (folder / "link.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(InvalidInputError, match="inside the pool"):
        FolderSource(folder).read_bytes("link.png")


def test_decoding_formats_cache_and_unreadable(folder, tmp_path):
    (folder / "broken.png").write_bytes(b"not a png")
    source = FolderSource(folder)
    cache = tmp_path / "cache" / "pixels.npz"
    decoder = PoolDecoder(source, ImageFormat(), cache, memory_items=2)
    decoded = decoder.decode_all(source.scan())
    assert decoded.pixels.shape == (4, 28, 28) and decoded.pixels.dtype == np.uint8
    assert list(decoded.failed) == ["broken.png"]
    assert "not an image Pillow can read" in decoded.failed["broken.png"]
    assert decoded.pixels[decoded.item_ids.index("dog/b.jpg")].min() == 200
    assert cache.exists()
    again = PoolDecoder(source, ImageFormat(), cache).decode_all(source.scan())
    assert np.array_equal(again.pixels, decoded.pixels)
    for item_id in decoded.item_ids:
        decoder.decode(item_id)
    assert len(decoder._memory) == 2
    with pytest.raises(UnreadableItemError, match=r"broken\.png"):
        decoder.decode("broken.png")
    data = pool_image_data(decoded, ImageFormat(), ("cat", "dog"), {"cat/a.png": "cat"})
    assert data.inputs.shape == (4, 1, 28, 28)
    assert data.labels.tolist() == [0, -1, -1, -1]


def test_pool_changes_keep_labels_and_vanished_images_are_skipped(folder, tmp_path):
    campaign = Campaign.init(tmp_path / "p", source=folder, classes=["cat", "dog"], **FAST)
    assert campaign.labels() == {"cat/a.png": "cat", "dog/b.jpg": "dog"}
    (folder / "cat" / "a.png").unlink()
    _png(folder / "more" / "f.png")
    report = campaign.sync_pool()
    assert (report.added, report.removed) == (["more/f.png"], ["cat/a.png"])
    assert campaign.labels() == {"cat/a.png": "cat", "dog/b.jpg": "dog"}
    with pytest.raises(UnknownItemError):
        campaign.image_bytes("cat/a.png")
    round_ = campaign.propose(batch_size=2)
    assert set(round_.item_ids) <= {"d.png", "new/deep/c.png", "more/f.png"}
    (folder / round_.item_ids[0]).unlink()
    with pytest.raises(UnreadableItemError):
        campaign.image_bytes(round_.item_ids[0])
    campaign.record(round_.item_ids[1], "cat", "ann")  # the round goes on
    assert campaign.image_bytes(round_.item_ids[1])[1] == "image/png"
