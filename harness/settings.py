"""Settings, read once from the environment and ``.env`` into a frozen object.

Only ``run.py`` and the CLI build a ``Settings``; everything below them receives it as
an argument, so inner code never reads the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from events.log import UnknownLog, check_log_setting
from harness.errors import Invalid

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_NO = ("0", "false", "no")
# The snapshot task looks this often at most: a shorter period only spun the event loop
# (it woke every microsecond for HARNESS_SNAPSHOT_S=0.000001, idle or not).
SNAPSHOT_MIN_S = 0.1


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server can be told from outside.

    ``max_body_bytes`` bounds every request body (a larger one is a 413 before it is
    parsed) and ``body_timeout_s`` the time it may take to arrive (408); ``max_runs``
    is how many runs execute at once before the queue waits.
    ``openai_base_url`` and ``openai_api_key`` are where the ``openai`` provider sends
    chat completions (any OpenAI-compatible server) and the key it sends, if any.
    ``stream_buffer`` is how many batches a live-stream client may lag behind before it
    is cut off (it resumes from its last event id); ``sse_ping_s`` is how often an idle
    SSE stream pings (the SPEC asks for at least every 15 s); ``sse_item_window_s`` is how
    often at most a running item's state is sent on the live stream while it streams
    text (``HARNESS_SSE_ITEM_WINDOW_S``; ``0``: every change); a live-stream client that
    takes no data for ``send_timeout_s`` is disconnected (WebSocket: 1013);
    ``header_timeout_s`` is how long a request's headers may take to arrive (then the
    connection is aborted), ``drain_timeout_s`` how long a closed connection's unsent
    data may sit untaken before it is aborted, and ``ws_close_timeout_s`` how long a
    WebSocket close handshake may take (``web.connections``; tests shorten them);
    ``semantic_memory`` lets memory search load the embedding model when the ``semantic``
    extra is installed
    (HARNESS_SEMANTIC_MEMORY=0 turns it off); ``demo`` keeps simulated runs going.
    ``log`` is the runs log's backend (``HARNESS_LOG``: ``file``, the default, is
    ``runs.jsonl`` in the data directory; or ``nats://host:port/STREAM``);
    ``append_deadline_s`` is how long a command waits for the log reader to show its
    effect before it answers 503 (``HARNESS_APPEND_DEADLINE_S``). ``lease_ttl_s`` is how
    long a replica's lease on a run lives without renewal (``HARNESS_LEASE_TTL_S``; with a
    JetStream log): another replica takes a dead one's runs over that long after it died.
    ``allowed_hosts`` are the names, beyond loopback names, IP literals and ``host``, that
    the server answers to in ``Host`` (``*``: any); ``allow_unauthenticated`` lets it
    serve beyond loopback without ``token``. ``max_connections`` caps open connections
    (lowered to leave file descriptors free under the process limit).
    ``snapshot_events`` and ``snapshot_s``: a read-model snapshot is written after that
    many events or seconds (at least ``SNAPSHOT_MIN_S``), whichever first (``0`` events:
    no snapshots at all).
    """

    host: str = "127.0.0.1"
    port: int = 7860
    data_dir: Path = field(default_factory=lambda: Path("data"))
    secret: str | None = None
    max_runs: int = 4
    token: str | None = None
    allow_unauthenticated: bool = False
    allowed_hosts: tuple[str, ...] = ()
    demo: bool = False
    max_body_bytes: int = 1 << 20
    body_timeout_s: float = 30.0
    stream_buffer: int = 1024
    max_connections: int = 1000
    sse_ping_s: float = 10.0
    sse_item_window_s: float = 0.25
    send_timeout_s: float = 10.0
    header_timeout_s: float = 10.0
    drain_timeout_s: float = 5.0
    ws_close_timeout_s: float = 5.0
    semantic_memory: bool = True
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str | None = None
    log: str = "file"
    append_deadline_s: float = 5.0
    snapshot_events: int = 1_000_000
    snapshot_s: float = 300.0
    lease_ttl_s: float = 10.0

    @property
    def log_path(self) -> Path:
        return self.data_dir / "runs.jsonl"

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    def ensure_dirs(self) -> None:
        self.datasets_dir.mkdir(parents=True, exist_ok=True)

    def check_bind(self) -> None:
        """Refuse to expose the write API beyond this machine without a token."""
        if self.host not in LOOPBACK_HOSTS and not self.token and not self.allow_unauthenticated:
            raise Invalid(
                f"refusing to bind to {self.host} without HARNESS_TOKEN; "
                "set a token or pass --allow-unauthenticated"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | None = None,
                 **overrides: object) -> Settings:
        """Build settings from ``.env`` (if present) overlaid by the real environment."""
        values = {k: v for k, v in dotenv_values(dotenv or Path(".env")).items() if v is not None}
        values.update(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {}
        if "HOST" in values:
            kwargs["host"] = values["HOST"]
        if "PORT" in values:
            kwargs["port"] = _int(values, "PORT")
        if "HARNESS_DATA_DIR" in values:
            kwargs["data_dir"] = Path(values["HARNESS_DATA_DIR"])
        if values.get("HARNESS_SECRET"):
            kwargs["secret"] = values["HARNESS_SECRET"]
        if "HARNESS_MAX_RUNS" in values:
            kwargs["max_runs"] = _int(values, "HARNESS_MAX_RUNS", minimum=1)
        if values.get("HARNESS_TOKEN"):
            kwargs["token"] = values["HARNESS_TOKEN"]
        if values.get("HARNESS_ALLOW_UNAUTHENTICATED"):
            kwargs["allow_unauthenticated"] = values["HARNESS_ALLOW_UNAUTHENTICATED"] not in _NO
        if values.get("HARNESS_ALLOWED_HOSTS"):
            kwargs["allowed_hosts"] = tuple(
                name.strip() for name in values["HARNESS_ALLOWED_HOSTS"].split(",") if name.strip())
        if "HARNESS_MAX_CONNECTIONS" in values:
            kwargs["max_connections"] = _int(values, "HARNESS_MAX_CONNECTIONS", minimum=8)
        if values.get("HARNESS_SEMANTIC_MEMORY"):
            kwargs["semantic_memory"] = values["HARNESS_SEMANTIC_MEMORY"] not in _NO
        if values.get("HARNESS_DEMO"):
            kwargs["demo"] = values["HARNESS_DEMO"] not in _NO
        if values.get("HARNESS_LOG"):
            kwargs["log"] = values["HARNESS_LOG"]
        if values.get("HARNESS_APPEND_DEADLINE_S"):
            kwargs["append_deadline_s"] = _seconds(values, "HARNESS_APPEND_DEADLINE_S")
        if values.get("HARNESS_SSE_ITEM_WINDOW_S"):
            kwargs["sse_item_window_s"] = _seconds(values, "HARNESS_SSE_ITEM_WINDOW_S",
                                                   zero_allowed=True)
        if "HARNESS_SNAPSHOT_EVENTS" in values:
            kwargs["snapshot_events"] = _int(values, "HARNESS_SNAPSHOT_EVENTS")
        if "HARNESS_SNAPSHOT_S" in values:
            kwargs["snapshot_s"] = _seconds(values, "HARNESS_SNAPSHOT_S",
                                            floor_s=SNAPSHOT_MIN_S)
        if values.get("HARNESS_LEASE_TTL_S"):
            kwargs["lease_ttl_s"] = _seconds(values, "HARNESS_LEASE_TTL_S")
        if values.get("OPENAI_BASE_URL"):
            kwargs["openai_base_url"] = values["OPENAI_BASE_URL"]
        if values.get("OPENAI_API_KEY"):
            kwargs["openai_api_key"] = values["OPENAI_API_KEY"]
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in kwargs:
            kwargs["data_dir"] = Path(kwargs["data_dir"])  # type: ignore[arg-type]
        try:
            check_log_setting(str(kwargs.get("log", "file")))
        except UnknownLog as error:
            raise Invalid(str(error)) from None
        return cls(**kwargs)  # type: ignore[arg-type]


def _int(values: Mapping[str, str], name: str, *, minimum: int = 0) -> int:
    try:
        number = int(values[name])
    except ValueError:
        raise Invalid(f"{name} must be an integer, got {values[name]!r}") from None
    if number < minimum:
        raise Invalid(f"{name} must be at least {minimum}, got {number}")
    return number


def _seconds(values: Mapping[str, str], name: str, *, zero_allowed: bool = False,
             floor_s: float = 0.0) -> float:
    try:
        seconds = float(values[name])
    except ValueError:
        raise Invalid(f"{name} must be a number of seconds, got {values[name]!r}") from None
    if not math.isfinite(seconds):  # "inf", "nan", "1e400"
        raise Invalid(f"{name} must be a finite number of seconds, got {values[name]!r}")
    if seconds < 0 or (seconds == 0 and not zero_allowed):
        raise Invalid(f"{name} must be {'at least' if zero_allowed else 'more than'} 0, "
                      f"got {seconds:g}")
    if seconds < floor_s:
        raise Invalid(f"{name} must be at least {floor_s:g}, got {seconds:g}")
    return seconds
