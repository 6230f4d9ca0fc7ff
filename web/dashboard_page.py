"""The dashboard's page and files, as a browser should load and keep them.

The page names every ES module of the dashboard as a ``modulepreload``, found on its first
request by following the static imports from its entry module: the browser then fetches them all
at once instead of one import level (of five) at a time. Everything is served with
``Cache-Control: no-cache``: a browser keeps the files but asks before each use (a 304
when unchanged), where a heuristic lifetime could let it run old modules beside new ones
after an upgrade.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from posixpath import normpath
from urllib.parse import urljoin

import anyio
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

REVALIDATE = {"Cache-Control": "no-cache"}
ENTRY_MODULE = "/static/js/app.js"
# The specifier of a statement that starts a line: ``import … from "…"`` (over several
# lines too), ``export … from "…"`` or ``import "…"``. The dashboard has no dynamic
# ``import()`` on its start-up path.
STATIC_IMPORT = re.compile(
    r"""^[ \t]*(?:import|export)\b(?:[^;"'`]*?\bfrom)?\s*["']([^"'\s]+)["']""", re.MULTILINE)


def module_graph(static_dir: Path, entry: str = ENTRY_MODULE) -> list[str]:
    """The addresses of every module ``entry`` imports, directly or not, in the order
    they are found (nearest first); a specifier naming no file is left to the browser."""
    found: list[str] = []
    waiting = [entry]
    while waiting:
        address = waiting.pop(0)
        source = static_dir / address.removeprefix("/static/")
        if not source.is_file():
            continue
        # Specifiers are ASCII: a stray byte elsewhere in a file must not hide them.
        text = source.read_bytes().decode("utf-8", errors="replace")
        for specifier in STATIC_IMPORT.findall(text):
            imported = normpath(urljoin(address, specifier))
            if imported.startswith("/static/") and imported not in found and imported != entry:
                found.append(imported)
                waiting.append(imported)
    return found


def dashboard_html(static_dir: Path) -> str:
    """``index.html`` with a preload of each module its entry module imports."""
    page = (static_dir / "index.html").read_text(encoding="utf-8")
    entry = f'<script type="module" src="{ENTRY_MODULE}"></script>'
    if entry not in page:
        raise ValueError(f"{static_dir / 'index.html'} does not load {ENTRY_MODULE}")
    preloads = "".join(f'\n  <link rel="modulepreload" href="{address}">'
                       for address in module_graph(static_dir))
    return page.replace(entry, entry + preloads)


class DashboardPage:
    """The endpoint for ``/``: the page is built on its first request, then kept. Not at
    start-up, which every server pays (about 8 ms and fifty file reads) while many are
    never asked for a page (the API's, and the tests' hundreds)."""

    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir
        self._html: str | None = None

    async def respond(self, request: object) -> Response:
        if self._html is None:
            self._html = await anyio.to_thread.run_sync(dashboard_html, self.static_dir)
        return HTMLResponse(self._html, headers=REVALIDATE)


class RevalidatedStaticFiles(StaticFiles):
    """Starlette's static files (with their ETag and Last-Modified) that a browser must
    revalidate before each use."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(REVALIDATE)
        return response
