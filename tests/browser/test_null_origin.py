"""A page on another site cannot act on the server through a sandboxed iframe's ``null``
origin, while the feedback widget on a ``file://`` page still can post feedback
(tests/browser/test_feedback_widget.py)."""

from __future__ import annotations

import html
import http.server
import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import sync_api
from tests.support.ports import free_port
from tests.support.servers import RunningServer

ATTACKER_HOST = "127.0.0.2"  # another loopback origin: a different site to the browser

# Runs in the sandboxed frame (origin "null"): try to create a run, record a memory and
# read memory back, and report to the outer page what each attempt could see.
FRAME_SCRIPT = """
const server = %(server)s;
async function attempt(name, path, options) {
  try {
    const response = await fetch(server + path, options);
    return [name, "status " + response.status + " " + (await response.text()).slice(0, 200)];
  } catch (error) {
    return [name, "blocked: " + error];
  }
}
const json = {"Content-Type": "application/json"};
Promise.all([
  attempt("createRun", "/api/runs", {method: "POST", headers: json, body: JSON.stringify(
    {providerName: "simulated", modelName: "m", datasetName: "arithmetic", limit: 1})}),
  attempt("simpleRun", "/api/runs", {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify(
    {providerName: "simulated", modelName: "m", datasetName: "arithmetic", limit: 1})}),
  attempt("writeMemory", "/api/memory", {method: "POST", headers: json,
    body: JSON.stringify({text: "planted by another site"})}),
  attempt("readMemory", "/api/memory", {}),
]).then(results => parent.postMessage(Object.fromEntries(results), "*"));
"""


class AttackerSite:
    """A page on http://127.0.0.2:PORT that embeds a sandboxed frame attacking ``target``."""

    def __init__(self, target: str) -> None:
        frame = "<script>%s</script>" % (FRAME_SCRIPT % {"server": json.dumps(target)})
        page = ("<!doctype html><title>Innocent</title><script>"
                "window.results = null;"
                "addEventListener('message', event => { window.results = event.data; });"
                "</script>"
                f'<iframe sandbox="allow-scripts" srcdoc="{html.escape(frame)}"></iframe>')
        body = page.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((ATTACKER_HOST, free_port()), Handler)
        self.url = f"http://{ATTACKER_HOST}:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> AttackerSite:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def attacker(server: RunningServer) -> Iterator[AttackerSite]:
    with AttackerSite(server.url) as site:
        yield site


def test_a_sandboxed_frame_on_another_site_cannot_create_a_run_or_touch_memory(
        browser: sync_api.Browser, server: RunningServer, attacker: AttackerSite) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(attacker.url)
        page.wait_for_function("window.results !== null", timeout=15_000)
        results = page.evaluate("window.results")
    finally:
        context.close()

    # Every attempt was made (the frame reported), none got through: no run, no memory,
    # and memory's contents were not readable by the frame.
    assert set(results) == {"createRun", "simpleRun", "writeMemory", "readMemory"}
    assert httpx.get(f"{server.url}/api/runs").json()["runs"] == []
    assert httpx.get(f"{server.url}/api/memory").json()["results"] == []
    assert not (server.settings.data_dir / "memory.jsonl").exists()
    assert not results["readMemory"].startswith("status 200"), results["readMemory"]
