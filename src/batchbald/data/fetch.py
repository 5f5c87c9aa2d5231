"""Find a dataset's files locally, or download the missing ones (mirrors, then the archive)."""

from __future__ import annotations

from pathlib import Path

from batchbald.data.array_files import file_problem
from batchbald.data.catalog import ArchiveSource, IdxDatasetSpec
from batchbald.data.download import Opener, download_file, extract_member
from batchbald.data.locations import DATA_DIR_ENV, candidate_paths, download_folder
from batchbald.errors import DataError

__all__ = ["locate_files"]


def locate_files(
    spec: IdxDatasetSpec, root: Path, *, download: bool, opener: Opener | None = None
) -> dict[str, Path]:
    """Paths of every file of ``spec`` (role -> path), downloading missing ones if allowed.

    Raises:
        DataError: some files are neither present nor downloadable; the message lists the
            files expected, every place looked in and every download failure.
    """
    found = {role: _find(spec, name, root) for role, name in spec.files.items()}
    failures: list[str] = []
    if download:
        for role in _missing(found):
            found[role] = _from_mirrors(spec, spec.files[role], root, opener, failures)
        if _missing(found) and spec.archive is not None:
            _from_archive(spec, spec.archive, root, found, opener, failures)
    missing = _missing(found)
    if missing:
        raise DataError(_missing_message(spec, root, missing, download, failures))
    return {role: path for role, path in found.items() if path is not None}


def _missing(found: dict[str, Path | None]) -> list[str]:
    return [role for role, path in found.items() if path is None]


def _find(spec: IdxDatasetSpec, file_name: str, root: Path) -> Path | None:
    """The first candidate that is a file; a directory in a file's place is an error."""
    candidates = candidate_paths(spec, file_name, root)
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        for path in candidates:
            problem = file_problem(path)
            if problem != "does not exist":
                raise DataError(
                    f"dataset {spec.name!r}: {path} {problem}; expected the data file "
                    f"{path.name} there. Move it away (or put the file there) and run again"
                )
    return found


def _from_mirrors(
    spec: IdxDatasetSpec, file_name: str, root: Path, opener: Opener | None, failures: list[str]
) -> Path | None:
    if not spec.base_urls:
        return None
    destination = download_folder(spec, root) / file_name
    try:
        checksum = spec.checksums.get(file_name)
        return download_file(spec.urls(file_name), destination, checksum=checksum, opener=opener)
    except DataError as error:
        failures.append(str(error))
        return None


def _from_archive(
    spec: IdxDatasetSpec,
    archive: ArchiveSource,
    root: Path,
    found: dict[str, Path | None],
    opener: Opener | None,
    failures: list[str],
) -> None:
    """Download the archive once (kept for later use), then extract every missing file."""
    folder = download_folder(spec, root)
    archive_path = folder / archive.file_name
    try:
        if not archive_path.is_file():
            download_file(archive.urls, archive_path, checksum=archive.checksum, opener=opener)
        for role in _missing(found):
            name = spec.files[role]
            found[role] = extract_member(
                archive_path,
                archive.member_prefix + name,
                folder / name,
                checksum=spec.checksums.get(name),
            )
    except DataError as error:
        failures.append(str(error))


def _missing_message(
    spec: IdxDatasetSpec, root: Path, missing: list[str], download: bool, failures: list[str]
) -> str:
    names = [spec.files[role] for role in missing]
    looked = [str(p) for name in names for p in candidate_paths(spec, name, root)]
    lines = [
        f"dataset {spec.name!r}: missing {len(names)} file(s): {', '.join(names)}",
        f"expected files: {', '.join(spec.files.values())}",
        "looked in:",
        *(f"  {path}" for path in looked),
    ]
    if not download:
        lines.append("download is disabled (download=False); enable it or copy the files there")
    elif failures:
        lines.append("download failed:")
        lines.extend(f"  {line}" for failure in failures for line in failure.splitlines())
    folder = spec.subdirs[0] if spec.subdirs else spec.name
    lines.append(
        f"hint: pass data_dir (CLI --data-dir) or set ${DATA_DIR_ENV} to a folder holding "
        f"the files, directly or in a subfolder named {folder!r}"
    )
    return "\n".join(lines)
