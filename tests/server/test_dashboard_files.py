"""The dashboard's page names every module it imports for the browser to fetch at once,
and a browser asks before it uses a kept copy of the page or of any of its files."""

from __future__ import annotations

import re

import httpx

from tests.support.servers import RunningServer

PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')


def test_the_page_preloads_the_modules_of_its_entry_module_and_each_is_served(
        server: RunningServer) -> None:
    page = httpx.get(f"{server.url}/")
    preloads = PRELOAD.findall(page.text)
    assert {"/static/js/store.js", "/static/js/item-view.js",
            "/static/vendor/uplot/uPlot.esm.js"} <= set(preloads)
    assert len(preloads) == len(set(preloads))
    assert "/static/js/app.js" not in preloads  # loaded by its <script>
    for address in preloads:
        assert httpx.get(f"{server.url}{address}").status_code == 200, address


def test_the_page_and_its_files_are_revalidated_and_unchanged_ones_answer_304(
        server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/").headers["cache-control"] == "no-cache"
    for address in ("/static/js/app.js", "/static/app.css"):
        first = httpx.get(f"{server.url}{address}")
        assert first.headers["cache-control"] == "no-cache"
        again = httpx.get(f"{server.url}{address}",
                          headers={"If-None-Match": first.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["cache-control"] == "no-cache"
