"""Engine creation: SQLite tuned for durability and concurrent readers, or any other URL.

SQLite runs in WAL mode (readers never block the writer) with
``synchronous=FULL``: WAL with NORMAL already survives a killed process, since
a committed transaction sits in the WAL file in the OS page cache; FULL also
fsyncs the WAL on every commit, so an acknowledged analysis survives an OS
crash or power loss too. The pragmas are per connection, so they are set in
the ``connect`` event on every new pooled connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        kwargs["poolclass"] = StaticPool  # one shared connection, or each sees an empty DB
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine
