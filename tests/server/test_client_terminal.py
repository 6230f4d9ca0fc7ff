"""``harness run`` and ``harness watch`` as a CI job runs them: subprocesses against a
real server process, their output read from a pipe (not a terminal)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness.client import Harness
from tests.support.processes import REPO, ServerProcess, serving

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but text, tab and newline


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving(tmp_path_factory.mktemp("client-terminal")) as process:
        yield process


def harness_cli(server: ServerProcess, *args: str, timeout_s: float = 120
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO,
                          env={**server.environment, "HARNESS_URL": server.url},
                          capture_output=True, text=True, timeout=timeout_s, check=False)


def start_run(server: ServerProcess, *config: str) -> str:
    created = harness_cli(server, "run", "--provider", "simulated", "--model", "m",
                          "--dataset", "arithmetic", "--limit", "12", "--quiet",
                          *(f"--set={pair}" for pair in ("latencyMs=150", *config)))
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def assert_plain(output: str) -> list[str]:
    assert not CONTROL.search(output), repr(output)
    return output.splitlines()


def test_watch_exit_is_0_when_the_run_completes_and_prints_plain_lines(
        server: ServerProcess) -> None:
    run_id = start_run(server, "faultRate=0")
    watched = harness_cli(server, "watch", "--run", run_id, "--exit")
    assert watched.returncode == 0, watched.stderr
    lines = assert_plain(watched.stdout)
    assert lines and all(line.split()[1] == run_id for line in lines)
    assert " completed 12/12 " in lines[-1]


def test_watch_exit_is_1_when_the_run_fails(server: ServerProcess) -> None:
    run_id = start_run(server, "faultRate=1")
    watched = harness_cli(server, "watch", server.url, "--run", run_id, "--exit")
    assert watched.returncode == 1, watched.stderr
    assert " failed " in assert_plain(watched.stdout)[-1]


def test_watch_exit_is_1_when_the_run_is_canceled(server: ServerProcess) -> None:
    run_id = start_run(server, "latencyMs=5000")
    with Harness(server.url) as harness:
        watcher = subprocess.Popen([sys.executable, "-m", "harness", "watch", server.url,
                                    "--run", run_id, "--exit"], cwd=REPO, env=server.environment,
                                   stdout=subprocess.PIPE, text=True)
        harness.cancel(run_id)
        output, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 1
    assert " canceled " in assert_plain(output)[-1]


def test_run_with_watch_prints_the_id_and_url_then_follows_to_the_end(
        server: ServerProcess) -> None:
    ran = harness_cli(server, "run", "--provider", "simulated", "--model", "m",
                      "--dataset", "arithmetic", "--limit", "5", "--label", "ci=yes",
                      "--set", "faultRate=0", "--set", "latencyMs=0", "--watch")
    assert ran.returncode == 0, ran.stderr
    first, *rest = assert_plain(ran.stdout)
    run_id, url = first.split()
    assert url == f"{server.url}/#/runs/{run_id}"
    assert " completed 5/5 " in rest[-1]
    with Harness(server.url) as harness:
        assert harness.run(run_id).run.labels == {"ci": "yes"}


def test_watch_of_an_unknown_run_says_so_and_exits_2(server: ServerProcess) -> None:
    watched = harness_cli(server, "watch", "--run", "no-such-run", "--exit")
    assert watched.returncode == 2
    assert "no run with id 'no-such-run'" in watched.stderr


def test_every_command_has_help(server: ServerProcess) -> None:
    for command in ("serve", "replay", "ship", "export", "watch", "run"):
        helped = harness_cli(server, command, "--help")
        assert helped.returncode == 0 and helped.stdout.startswith("usage:"), command
    top = harness_cli(server, "--help")
    assert all(command in top.stdout
               for command in ("serve", "replay", "ship", "export", "watch", "run"))
