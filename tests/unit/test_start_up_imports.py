"""The server starts without the libraries only some requests need: the MCP SDK loads
when an MCP server is first used, BM25 (with scipy and numpy) on the first memory
search by relevance, httpx's transport (httpcore, trio) when a provider first calls a
model over HTTP. Together they were more than half of a start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEFERRED = {"mcp", "mcp_types", "jsonschema", "bm25s", "scipy", "numpy", "httpcore", "trio"}


def test_importing_the_server_loads_no_library_that_only_some_requests_need() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, web.app; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert sorted({name.split(".")[0] for name in loaded} & DEFERRED) == []
