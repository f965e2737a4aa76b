"""Load test: N concurrent clients against a real ``dxrx serve`` on a free loopback port.

Run: ``python benchmarks/load.py [--clients 50] [--requests 500] [--gets 1]``. Starts the
server in a subprocess with a throwaway DXRX_DATA_DIR (SQLite, no rate limit), then the
clients POST dev cases to /v1/analyze (``--requests`` in all) and GET each stored analysis
back ``--gets`` times. Prints throughput, p50/p95/max latency per request kind and the error
count (the target is 0), as text or ``--json``. Traffic stays on 127.0.0.1 and is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev.jsonl"


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"analyze": [], "get": []})
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    data_dir: Path, port: int, log: Path, database_url: str | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXRX_")}
    env |= {"DXRX_DATA_DIR": str(data_dir), "DXRX_RATE_LIMIT_PER_MINUTE": "0"}
    if database_url:
        env["DXRX_DATABASE_URL"] = database_url
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dxrx", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


async def client_loop(
    client: httpx.AsyncClient,
    cases: list[dict[str, Any]],
    counter: list[int],
    total: int,
    gets: int,
    out: Results,
) -> None:
    while True:
        n = counter[0]
        if n >= total:
            return
        counter[0] = n + 1  # one event loop: no lock needed between the awaits
        t0 = time.perf_counter()
        try:
            resp = await client.post("/v1/analyze", json=cases[n % len(cases)])
        except httpx.HTTPError as exc:
            out.errors.append(f"analyze: {type(exc).__name__}")
            continue
        out.latencies["analyze"].append(time.perf_counter() - t0)
        if resp.status_code != 200:
            out.errors.append(f"analyze: HTTP {resp.status_code}")
            continue
        aid = resp.json()["id"]
        for _ in range(gets):
            t0 = time.perf_counter()
            try:
                got = await client.get(f"/v1/analyses/{aid}")
            except httpx.HTTPError as exc:
                out.errors.append(f"get: {type(exc).__name__}")
                continue
            out.latencies["get"].append(time.perf_counter() - t0)
            if got.status_code != 200 or got.json()["id"] != aid:
                out.errors.append(f"get: HTTP {got.status_code}")


async def run_load(base: str, clients: int, requests: int, gets: int) -> tuple[Results, float]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    out = Results()
    counter = [0]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(
            *(client_loop(client, cases, counter, requests, gets, out) for _ in range(clients))
        )
        elapsed = time.perf_counter() - t0
    return out, elapsed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(out: Results, elapsed: float, clients: int) -> dict[str, Any]:
    done = sum(len(v) for v in out.latencies.values())
    doc: dict[str, Any] = {
        "clients": clients,
        "requests": done,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(done / elapsed, 1),
        "analyses_per_s": round(len(out.latencies["analyze"]) / elapsed, 1),
        "errors": len(out.errors),
        "error_kinds": sorted(set(out.errors)),
    }
    for kind, values in out.latencies.items():
        doc[kind] = {
            "n": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1) if values else None,
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1) if values else None,
        }
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=500, help="POST /v1/analyze in all")
    parser.add_argument("--gets", type=int, default=1, help="GETs of each stored analysis")
    parser.add_argument("--database-url", help="store in this database instead of SQLite")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.gets < 0:
        parser.error("--clients and --requests must be at least 1, --gets at least 0")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "server.log"
        proc = start_server(Path(tmp) / "data", port, log, args.database_url)
        try:
            out, elapsed = asyncio.run(
                run_load(f"http://127.0.0.1:{port}", args.clients, args.requests, args.gets)
            )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    doc = summary(out, elapsed, args.clients)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(
        f"{doc['clients']} clients, {doc['requests']} requests in {doc['seconds']} s: "
        f"{doc['requests_per_s']} req/s ({doc['analyses_per_s']} analyses/s), "
        f"{doc['errors']} errors {doc['error_kinds'] or ''}"
    )
    for kind in ("analyze", "get"):
        k = doc[kind]
        ms = f"p50 {k['p50_ms']} ms  p95 {k['p95_ms']} ms  max {k['max_ms']} ms"
        print(f"  {kind:8} n={k['n']:5}  {ms}")


if __name__ == "__main__":
    main()
