"""kill -9 the server while it is storing analyses: every acknowledged one must survive.

An analysis is acknowledged (200) only after its transaction has committed,
and SQLite in WAL mode keeps a committed transaction in the WAL file even if
the process dies before a checkpoint; a restarted server must serve them all.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from conftest import DEV
from dxrx.model import Report
from web_support import free_port, running_server

WANT_BEFORE_KILL = 12


def _cases() -> list[dict[str, Any]]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_acknowledged_analyses_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cases = _cases()
    acked: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def post_forever(start: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            i = start
            while not stop.is_set() and i < start + 500:  # bounded: the kill ends it long before
                try:
                    resp = client.post("/v1/analyze", json=cases[i % len(cases)])
                except httpx.HTTPError:
                    return  # the server is gone
                if resp.status_code == 200:
                    acked.append(resp.json()["id"])
                else:
                    failures.append(f"{resp.status_code} {resp.text[:200]}")
                i += 1

    log = tmp_path / "server.log"
    with running_server(data, port, log) as proc:
        posters = [
            threading.Thread(target=post_forever, args=(n * 7,), daemon=True) for n in range(3)
        ]
        for t in posters:
            t.start()
        deadline = time.monotonic() + 120
        while len(acked) < WANT_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # mid-way: three clients have requests in flight
        proc.wait(timeout=10)
        stop.set()
        for t in posters:
            t.join(timeout=30)
    assert not failures
    assert len(acked) >= WANT_BEFORE_KILL, log.read_text()
    assert proc.returncode == -signal.SIGKILL

    db = data / "dxrx.sqlite3"
    wal = data / "dxrx.sqlite3-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the kill left commits in the WAL only
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = dict(conn.execute("SELECT id, report_json FROM analyses").fetchall())
        audited = {r[0] for r in conn.execute("SELECT analysis_id FROM audit")}
    finally:
        conn.close()
    print(f"acknowledged {len(acked)}, stored {len(rows)} (the rest: committed, never answered)")
    missing = [a for a in acked if a not in rows]
    assert not missing, f"{len(missing)} acknowledged analyses lost"
    for aid in acked:
        Report.model_validate_json(rows[aid])  # readable, complete reports
    assert set(acked) <= audited

    port2 = free_port()
    with (
        running_server(data, port2, log),
        httpx.Client(base_url=f"http://127.0.0.1:{port2}", timeout=30) as client,
    ):
        for aid in acked:
            resp = client.get(f"/v1/analyses/{aid}")
            assert resp.status_code == 200
            assert resp.json()["id"] == aid
        listing = client.get("/v1/analyses", params={"limit": 100}).json()
        assert listing["total"] >= len(acked)
