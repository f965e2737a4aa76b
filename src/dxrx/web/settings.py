"""Server settings, read from the environment unless given.

Environment: DXRX_API_TOKEN, DXRX_DATABASE_URL, DXRX_DATA_DIR,
DXRX_MAX_BODY_BYTES, DXRX_MAX_CASE_CHARS, DXRX_RATE_LIMIT_PER_MINUTE,
DXRX_PUBLIC_URL.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def data_dir() -> Path:
    """DXRX_DATA_DIR, else $XDG_DATA_HOME/dxrx, else ~/.local/share/dxrx."""
    explicit = os.environ.get("DXRX_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "dxrx"


def default_database_url() -> str:
    explicit = os.environ.get("DXRX_DATABASE_URL")
    if explicit:
        return explicit
    return f"sqlite:///{data_dir() / 'dxrx.sqlite3'}"


def _env_token() -> str | None:
    token = os.environ.get("DXRX_API_TOKEN", "").strip()
    return token or None


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def read_token_file(path: Path) -> str:
    """The token in ``path`` (first non-empty line); raises ValueError if there is none."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read token file {path}: {exc.strerror or exc}") from None
    token = next((line.strip() for line in lines if line.strip()), "")
    if not token:
        raise ValueError(f"token file {path} is empty")
    return token


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = field(default_factory=_env_token)
    database_url: str = field(default_factory=default_database_url)
    max_body_bytes: int = field(default_factory=lambda: _env_int("DXRX_MAX_BODY_BYTES", 1_000_000))
    rate_limit_per_minute: int = field(
        default_factory=lambda: _env_int("DXRX_RATE_LIMIT_PER_MINUTE", 120)
    )
    max_case_chars: int = field(default_factory=lambda: _env_int("DXRX_MAX_CASE_CHARS", 20_000))
    public_url: str | None = field(
        default_factory=lambda: os.environ.get("DXRX_PUBLIC_URL", "").strip().rstrip("/") or None
    )
    """The server's URL as clients see it (behind a proxy); links in CDS cards use it."""

    @property
    def auth_required(self) -> bool:
        """A configured token is always enforced; beyond loopback one is mandatory."""
        return self.token is not None or not is_loopback(self.host)

    def problems(self) -> list[str]:
        """Why a server with these settings must not start (empty when it may)."""
        out = []
        if not is_loopback(self.host) and self.token is None:
            out.append(
                f"refusing to listen on {self.host}: beyond localhost an API token is required "
                "(set DXRX_API_TOKEN or give --token-file)"
            )
        if self.token is not None and len(self.token) < 16:
            out.append("the API token is too short: use at least 16 characters")
        if self.max_body_bytes < 1 or self.max_case_chars < 1:
            out.append("max_body_bytes and max_case_chars must be positive")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            out.append("the public URL must start with http:// or https://")
        if self.rate_limit_per_minute < 0:
            out.append("rate_limit_per_minute must be 0 (off) or more")
        return out
