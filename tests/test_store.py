"""The analysis store on SQLite (always) and PostgreSQL (when DXRX_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dxrx.ingest import ingest_record, ingest_text
from dxrx.kb import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_case
from dxrx.store import Store
from dxrx.store.migrate import current_revision, head_revision
from dxrx.store.schema import metadata

PG_ENV = "DXRX_TEST_POSTGRES_URL"
QUOKKA = (
    "Man aged 35 with two months of pain on the outer side of the right knee when running; "
    "tender over the lateral femoral epicondyle, with a positive Noble test. "
    "He keeps a pet quokka."
)


@pytest.fixture(scope="module")
def seed_report(kb: KnowledgeBase, seed_record: dict[str, object]) -> Report:
    return analyze_case(ingest_record(seed_record, kb), kb)


@pytest.fixture(scope="module")
def knee_report(kb: KnowledgeBase) -> Report:
    return analyze_case(ingest_text(QUOKKA, kb), kb)


def _postgres_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to a postgresql+psycopg:// URL")
    schema = f"dxrx_test_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'dxrx.sqlite3'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()


def test_save_and_get_round_trip(store: Store, seed_report: Report) -> None:
    before = datetime.now(UTC)
    saved = store.save(
        input_text="the case as given", input_format="case", report=seed_report, actor="tester"
    )
    got = store.get(saved.id)
    assert got is not None
    assert got.id == saved.id and len(saved.id) >= 16
    assert got.report == seed_report
    assert got.input_text == "the case as given"
    assert got.input_format == "case"
    assert got.kb_version == seed_report.kb_version
    assert got.dxrx_version == seed_report.dxrx_version
    assert got.leading_id == "superior-gluteal-nerve-entrapment"
    assert got.leading_name == seed_report.leading.name
    assert got.leading_score == pytest.approx(seed_report.leading.score)
    assert got.created_at.tzinfo is not None
    assert before.replace(microsecond=0) <= got.created_at <= datetime.now(UTC)


def test_unknown_and_malformed_ids_are_none(store: Store) -> None:
    assert store.get("does-not-exist") is None
    assert store.get("../../etc/passwd") is None
    assert store.get("x" * 200) is None
    assert store.get("") is None


def test_list_is_newest_first_and_paginates(store: Store, seed_report: Report) -> None:
    ids = [
        store.save(input_text=f"case {i}", input_format="text", report=seed_report, actor="t").id
        for i in range(5)
    ]
    page, total = store.list(offset=0, limit=2)
    assert total == 5
    assert [p.id for p in page] == ids[::-1][:2]
    page2, _ = store.list(offset=2, limit=2)
    page3, _ = store.list(offset=4, limit=2)
    assert [p.id for p in page + page2 + page3] == ids[::-1]
    assert store.list(offset=10, limit=2) == ([], 5)
    assert not hasattr(page[0], "input_text")


def test_search_matches_diagnosis_and_input_text(
    store: Store, seed_report: Report, knee_report: Report
) -> None:
    seed = store.save(input_text="buttock pain", input_format="text", report=seed_report, actor="t")
    knee = store.save(input_text=QUOKKA, input_format="text", report=knee_report, actor="t")
    by_name, n = store.list(query="GLUTEAL NERVE")
    assert n == 1 and [s.id for s in by_name] == [seed.id]
    by_text, n = store.list(query="quokka")
    assert n == 1 and [s.id for s in by_text] == [knee.id]
    # LIKE wildcards in a query are literal characters, not patterns
    assert store.list(query="%") == ([], 0)
    assert store.list(query="_")[1] == 0
    assert store.list(query="   ")[1] == 2


def test_audit_log(store: Store, seed_report: Report) -> None:
    saved = store.save(input_text="x", input_format="text", report=seed_report, actor="alice")
    store.audit(actor="bob", action="view", analysis_id=saved.id)
    store.audit(actor="bob", action="grade", analysis_id=None)
    log = store.audit_log(limit=10)
    assert [(e.actor, e.action, e.analysis_id) for e in log] == [
        ("bob", "grade", None),
        ("bob", "view", saved.id),
        ("alice", "analyze", saved.id),
    ]
    assert all(e.at.tzinfo is not None for e in log)
    assert len(store.audit_log(limit=1)) == 1


def test_migrations_reach_head_and_match_the_schema(store: Store) -> None:
    assert current_revision(store.engine) == head_revision() == "0001"
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    again = Store(store.url)  # opening an up-to-date database is a no-op
    assert current_revision(again.engine) == "0001"
    again.close()


def test_ping(store: Store) -> None:
    assert store.ping()


def test_sqlite_connections_use_wal_and_full_sync(tmp_path: Path, seed_report: Report) -> None:
    path = tmp_path / "deep" / "folder" / "dxrx.sqlite3"
    store = Store(f"sqlite:///{path}")
    assert path.exists()
    conns = [store.engine.connect() for _ in range(3)]  # several pooled connections
    try:
        for conn in conns:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        for conn in conns:
            conn.close()
    saved = store.save(input_text="x", input_format="text", report=seed_report, actor="t")
    store.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT id FROM analyses").fetchall() == [(saved.id,)]
    finally:
        raw.close()


def test_in_memory_sqlite_works(seed_report: Report) -> None:
    store = Store("sqlite://")
    saved = store.save(input_text="x", input_format="text", report=seed_report, actor="t")
    assert store.get(saved.id) is not None
    store.close()
