"""Fixtures of the campaign tests: a tiny pool, fast settings, and the two databases.

The PostgreSQL tests run against a real server: a throwaway cluster made with Debian's
``initdb`` in a temporary folder, run as the ``postgres`` user when the tests run as root,
listening on a Unix socket only. Each test gets a fresh database on it.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .helpers import FAST, make_pool


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throwaway PostgreSQL cluster (Unix socket only) and fresh databases on it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir, self.root = bindir, Path(tempfile.mkdtemp(prefix="bb-pg-"))
        self.data, self.socket = self.root / "data", self.root
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = 20000 + os.getpid() % 20000
        self._names = itertools.count()

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user)
        options = f"-k {self.socket} -p {self.port} -c listen_addresses='' -c fsync=off"
        log = str(self.root / "server.log")
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            log,
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"campaign_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server():
    """The session's PostgreSQL server (skips with the reason when it cannot be started)."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb) not found; apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'psycopg[binary]')")
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'campaign.db'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def pool(tmp_path):
    """(path of a 40-image .npz pool, its true labels)."""
    return make_pool(tmp_path)


@pytest.fixture
def campaign(tmp_path, pool, db_url):
    """A campaign over :func:`pool` with fast settings, on each database."""
    from batchbald.campaign import Campaign

    created = Campaign.init(
        tmp_path / "project", source=f"npz:{pool[0]}", classes=["a", "b", "c"], db_url=db_url,
        **FAST,
    )  # fmt: skip
    yield created
    created.close()
