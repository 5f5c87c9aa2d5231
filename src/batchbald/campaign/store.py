"""The campaign's database: engines for SQLite (default) or PostgreSQL, schema checks, upgrades.

One :class:`Store` per process; every write runs in ``with store.begin() as connection:`` (one
transaction, SQLAlchemy 2.0's unit of work). SQLite runs in WAL mode with a busy timeout, so the
web server's readers never block a ``propose`` writing its round in another process.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from batchbald.campaign import schema
from batchbald.campaign.errors import (
    CorruptDatabaseError,
    ForeignDatabaseError,
    NewerSchemaError,
    NotACampaignError,
)
from batchbald.errors import InvalidInputError

__all__ = ["Store", "normalise_url", "now"]


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def normalise_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3); other URLs unchanged."""
    if not isinstance(url, str) or not url:
        raise InvalidInputError(f"db_url must be a database URL string; got {url!r}")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(connection, record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as error:
        raise InvalidInputError(
            f"db_url must be sqlite:///PATH or postgresql://USER@HOST/DB; got {url!r} ({error})"
        ) from None


class Store:
    """A campaign database at ``url`` (SQLAlchemy URL; ``postgresql://`` uses psycopg 3).

    Raises (from :meth:`check` / :meth:`create`):
        CorruptDatabaseError, ForeignDatabaseError, NewerSchemaError, NotACampaignError.
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = _engine(self.url)

    @classmethod
    def sqlite_file(cls, path: Path) -> Store:
        """The SQLite database in file ``path``."""
        return cls(f"sqlite:///{Path(path).resolve()}")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with self._translated(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DatabaseError as error:
            text = str(error.orig) if error.orig is not None else str(error)
            if "not a database" in text or "malformed" in text:
                raise CorruptDatabaseError(
                    f"database {self.describe()} is corrupt or not a database: {text}"
                ) from None
            if isinstance(error, OperationalError) and "unable to open" in text:
                raise CorruptDatabaseError(f"database {self.describe()}: {text}") from None
            raise

    def describe(self) -> str:
        """The URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    def _versions(self, connection: Connection) -> list[int] | None:
        names = set(inspect(connection).get_table_names())
        if schema.schema_version.name not in names:
            if names:
                raise ForeignDatabaseError(
                    f"database {self.describe()} holds tables of something else "
                    f"({', '.join(sorted(names)[:5])}); expected a batchbald campaign or an "
                    "empty database"
                )
            return None
        return [row[0] for row in connection.execute(select(schema.schema_version.c.version))]

    def check(self) -> int:
        """Open an existing campaign database, applying pending migrations; its version.

        Raises:
            NotACampaignError: the database is empty.
        """
        with self.begin() as connection:
            versions = self._versions(connection)
            if versions is None:
                raise NotACampaignError(
                    f"database {self.describe()} holds no campaign; create one with "
                    "batchbald campaign init"
                )
            return self._upgrade(connection, versions)

    def create(self) -> int:
        """Create the schema in an empty database (refuses a database that holds anything)."""
        with self.begin() as connection:
            versions = self._versions(connection)
            if versions is not None:
                raise ForeignDatabaseError(
                    f"database {self.describe()} already holds a campaign; open it instead, "
                    "or use an empty database"
                )
            return self._upgrade(connection, [])

    def _upgrade(
        self, connection: Connection, versions: list[int], target: int | None = None
    ) -> int:
        newest = max(versions, default=0)
        if newest > schema.SCHEMA_VERSION:
            raise NewerSchemaError(
                f"database {self.describe()} has schema version {newest}, newer than this "
                f"batchbald's {schema.SCHEMA_VERSION}; upgrade batchbald to open it"
            )
        for version, description, migrate in schema.MIGRATIONS:
            if version > newest and (target is None or version <= target):
                migrate(connection)
                connection.execute(
                    insert(schema.schema_version).values(
                        version=version, description=description, applied_at=now()
                    )
                )
                newest = version
        return newest

    def create_at_version(self, target: int) -> int:
        """Create the schema only up to migration ``target`` (tests of upgrades)."""
        with self.begin() as connection:
            return self._upgrade(connection, [], target)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
