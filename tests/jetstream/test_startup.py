"""A ``HARNESS_LOG`` the server cannot use is one line at start-up, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nats import NatsServer
from tests.support.ports import free_port
from tests.support.processes import REPO


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "run.py"), "--port", str(free_port()),
                           *args], cwd=tmp_path, text=True, capture_output=True, timeout=60,
                          env={**os.environ, "HARNESS_DATA_DIR": str(tmp_path / "data"),
                               "PYTHONPATH": str(REPO), **env})


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize("log", ["redis://host/S", "nats://host/bad.name", "nats:///S"])
def test_an_address_that_names_no_stream_is_refused(tmp_path: Path, log: str) -> None:
    assert_one_line(serve(tmp_path, HARNESS_LOG=log), "HARNESS_LOG")


def test_an_unreachable_server_is_refused(tmp_path: Path) -> None:
    assert_one_line(serve(tmp_path, "--log", f"nats://127.0.0.1:{free_port()}/S?timeout=0.2"),
                    "cannot connect to NATS at nats://127.0.0.1")


def test_missing_stream_permissions_are_refused(tmp_path: Path,
                                                restricted_server: NatsServer) -> None:
    log = f"nats://worker:pw@127.0.0.1:{restricted_server.port}/S?timeout=0.5"
    assert_one_line(serve(tmp_path, HARNESS_LOG=log), "no permission",
                    "permissions violation for publish")
