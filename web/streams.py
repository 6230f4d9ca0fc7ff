"""How many live-stream clients are connected, for ``GET /api/health``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StreamCounts:
    sse: int = 0
    sse_cut_short: int = 0  # streams ended in their opening: a run could not be read back
    websocket: int = 0
    websocket_skipped: int = 0  # records not sent: not an event, or not UTF-8
