"""A server with ``HARNESS_TOKEN``: the client and the command line carry the token on
their commands, and a wrong one is the API error with status 401."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness.client import ApiError, Harness
from tests.support.processes import REPO, ServerProcess, serving

TOKEN = "s3cret-token"
SPEC = {"provider_name": "simulated", "model_name": "m", "dataset_name": "arithmetic",
        "limit": 2, "config": {"latencyMs": 0}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving(tmp_path_factory.mktemp("client-token"),
                 env={"HARNESS_TOKEN": TOKEN}) as process:
        yield process


def test_commands_carry_the_token(server: ServerProcess) -> None:
    with Harness(server.url, token=TOKEN) as harness:
        created = harness.create_run(**SPEC)
        assert harness.feedback(created.run.id, "up").rating == "up"


@pytest.mark.parametrize("token", ["wrong", None])
def test_a_wrong_or_missing_token_raises_the_api_error_with_status_401(
        server: ServerProcess, token: str | None) -> None:
    with Harness(server.url, token=token) as harness:
        assert harness.health().status == "ok"  # reads need no token
        with pytest.raises(ApiError) as refused:
            harness.create_run(**SPEC)
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert refused.value.message


def test_the_command_line_takes_the_token_from_the_environment(server: ServerProcess) -> None:
    def run(token: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness", "run", "--url", server.url, "--provider",
             "simulated", "--model", "m", "--dataset", "arithmetic", "--limit", "1", "--quiet"],
            cwd=REPO, env={**server.environment, "HARNESS_TOKEN": token}, capture_output=True,
            text=True, timeout=60, check=False)

    accepted = run(TOKEN)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip().startswith("run-")
    refused = run("wrong")
    assert refused.returncode == 2
    assert "token" in refused.stderr.lower()
