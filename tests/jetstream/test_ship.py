"""``python -m harness ship``: a local log forwarded to a stream, every line stored exactly
once however the shipper is stopped; and ``export``/``replay`` of a stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import anyio
import msgspec
import nats

from events import schema as ev
from events.jetstream import JetStreamLog
from events.writer import append_events
from tests.support.nats import NatsServer
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
TS = "2026-03-06T19:43:11.123Z"


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def start_ship(path: Path, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "harness", "ship", str(path), "--to", url,
                             *extra], cwd=path.parent, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_log(path: Path, lines: int, *, with_ids: bool = False) -> None:
    events = [ev.RunLog(run_id="r", level="info", message=f"line {n}", ts=TS,
                        event_id=f"e{n}" if with_ids and n % 2 else None)
              for n in range(lines)]
    for start in range(0, lines, 5000):
        append_events(path, events[start:start + 5000])


def stream_records(url: str) -> list[bytes]:
    async def read() -> list[bytes]:
        log = JetStreamLog(url)
        reader = log.reader()
        raws: list[bytes] = []
        while (batch := await reader.read()) is not None:
            raws.extend(getattr(batch, "raws", ()))
        await log.aclose()
        return raws
    return anyio.run(read)


def stream_count(server: NatsServer, stream: str = "HARNESS") -> int:
    async def count() -> int:
        client = await nats.connect(server.url)
        try:
            return (await client.jetstream().stream_info(stream)).state.messages
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await client.close()
    return anyio.run(count)


def test_every_line_is_stored_once_in_order_exactly_as_written(
        nats_server: NatsServer, tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    write_log(path, 300, with_ids=True)
    with path.open("ab") as out:
        out.write(b"\n{not json}\n\n")  # a bad line is shipped as it is; blank lines are not
    first = harness("ship", str(path), "--to", nats_server.log_url(), "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = harness("ship", str(path), "--to", nats_server.log_url(), "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
    assert stream_records(nats_server.log_url()) == lines


def test_a_shipper_killed_mid_file_and_restarted_leaves_every_line_exactly_once(
        nats_server: NatsServer, tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    write_log(path, 60_000)
    url = nats_server.log_url()
    shipper = start_ship(path, url, "--once")
    wait_until(lambda: stream_count(nats_server) > 1000, timeout_s=60,
               interval_s=0.05, message="the shipper stored some lines")
    os.kill(shipper.pid, signal.SIGKILL)
    shipper.wait()
    assert stream_count(nats_server) < 60_000, "killed too late to test a resume"
    resumed = harness("ship", str(path), "--to", url, "--once", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    messages = [msgspec.json.decode(raw)["message"] for raw in stream_records(url)]
    assert messages == [f"line {n}" for n in range(60_000)]


def test_a_restart_after_the_duplicate_window_still_resumes_where_the_stream_says(
        nats_server: NatsServer, tmp_path: Path) -> None:
    async def make_stream() -> None:  # a one-second window: long over by the restart
        client = await nats.connect(nats_server.url)
        await client.jetstream().add_stream(name="SHORT", subjects=["harness.SHORT.>"],
                                            duplicate_window=1)
        await client.close()
    anyio.run(make_stream)
    path = tmp_path / "runs.jsonl"
    write_log(path, 100)
    url = nats_server.log_url("SHORT")
    assert harness("ship", str(path), "--to", url, "--once", cwd=tmp_path).returncode == 0
    wait_until(lambda: stream_count(nats_server, "SHORT") == 100, message="first part stored")
    anyio.run(anyio.sleep, 1.5)  # the window has passed: only the stream knows now
    write_log(path, 50)
    assert harness("ship", str(path), "--to", url, "--once", cwd=tmp_path).returncode == 0
    assert len(stream_records(url)) == 150


def test_a_followed_file_is_shipped_as_it_grows(nats_server: NatsServer, tmp_path: Path
                                                ) -> None:
    path = tmp_path / "runs.jsonl"
    write_log(path, 10)
    shipper = start_ship(path, nats_server.log_url())
    try:
        wait_until(lambda: stream_count(nats_server) == 10, timeout_s=30,
                   message="the first lines shipped")
        write_log(path, 5)
        wait_until(lambda: stream_count(nats_server) == 15, timeout_s=30,
                   message="appended lines shipped")
    finally:
        shipper.terminate()
        shipper.wait(timeout=10)


def test_a_stream_exports_to_a_jsonl_file_that_replays_like_the_stream(
        nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.log_url()
    path = tmp_path / "runs.jsonl"
    append_events(path, [
        ev.RunCreated(run_id="run-1", provider_name="p", model_name="m", dataset_name="d",
                      total=2, ts=TS),
        ev.ItemStarted(run_id="run-1", sequence=1, prompt_text="Q", ts=TS),
        ev.ItemAnswered(run_id="run-1", sequence=1, response_text="A", ts=TS),
        ev.ItemJudged(run_id="run-1", sequence=1, correct=True, ts=TS)])
    assert harness("ship", str(path), "--to", url, "--once", cwd=tmp_path).returncode == 0
    copy = tmp_path / "copy.jsonl"
    exported = harness("export", url, "--to", str(copy), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert copy.read_bytes() == path.read_bytes()
    from_stream = harness("replay", url, "--json", cwd=tmp_path)
    from_copy = harness("replay", str(copy), "--json", cwd=tmp_path)
    assert from_stream.returncode == 0, from_stream.stderr
    runs = json.loads(from_stream.stdout)["runs"]
    assert runs == json.loads(from_copy.stdout)["runs"]
    assert Counter(run["run"]["status"] for run in runs) == {"pending": 1}
    assert runs[0]["progress"]["correct"] == 1
    item = harness("replay", url, "--run", "run-1", "--json", cwd=tmp_path)
    assert item.returncode == 0 and json.loads(item.stdout)


def test_an_unreachable_stream_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    write_log(path, 1)
    unreachable = "nats://127.0.0.1:9/S?timeout=0.2"
    for command in (("replay", unreachable),
                    ("export", unreachable, "--to", str(tmp_path / "x.jsonl"))):
        result = harness(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "cannot connect to NATS" in result.stderr
