"""Fixtures of the JetStream tests (``nats_server`` itself is in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nats import NatsServer


@pytest.fixture
def restricted_server(nats_server: NatsServer, tmp_path: Path) -> Iterator[NatsServer]:
    """A second server whose only user may not use the JetStream API."""
    server = NatsServer(tmp_path / "restricted", config=(
        'authorization { users = [ {user: "worker", password: "pw", '
        'permissions: { publish: { deny: ["$JS.API.>"] } } } ] }'))
    server.start()
    yield server
    server.stop()
