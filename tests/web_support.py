"""Helpers for the web tests: an app on a throwaway database, a real server in a subprocess."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from dxrx.web.app import create_app
from dxrx.web.settings import Settings

TOKEN = "test-token-0123456789abcdef"


def make_client(tmp_path: Path, **overrides: Any) -> TestClient:
    """A TestClient for an app on a fresh SQLite file; no rate limit unless asked."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'dxrx.sqlite3'}",
        "token": None,
        "rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return TestClient(create_app(Settings(**values)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXRX_")}
    env.update({"DXRX_DATA_DIR": str(data_dir), "DXRX_RATE_LIMIT_PER_MINUTE": "0"}, **extra)
    return env


@contextlib.contextmanager
def running_server(data_dir: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dxrx serve`` on 127.0.0.1:port until the block ends (or the test kills it)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dxrx", "serve", "--port", str(port)],
            env=server_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy in {timeout} s:\n{log.read_text()}")


def as_prefetch(bundle: dict[str, Any], patient_id: str = "p1") -> dict[str, Any]:
    """A dxrx test Bundle recast as an EHR's CDS Hooks prefetch: resources with ids,
    references as ``Type/id``, the Patient alone and the rest as searchset Bundles."""
    ids: dict[str, str] = {}
    for i, entry in enumerate(bundle["entry"]):
        kind = entry["resource"]["resourceType"]
        ids[entry["fullUrl"]] = f"{kind}/{patient_id if kind == 'Patient' else f'r{i}'}"

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: ids.get(v, v) if k == "reference" and isinstance(v, str) else rewrite(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        res = rewrite(entry["resource"])
        res["id"] = ids[entry["fullUrl"]].split("/", 1)[1]
        by_type.setdefault(res["resourceType"], []).append(res)

    def searchset(kind: str) -> dict[str, Any]:
        items = by_type.get(kind, [])
        entries = [{"resource": r} for r in items]
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(items),
            "entry": entries,
        }

    return {
        "patient": by_type["Patient"][0],
        "conditions": searchset("Condition"),
        "observations": searchset("Observation"),
        "diagnosticReports": searchset("DiagnosticReport"),
    }
