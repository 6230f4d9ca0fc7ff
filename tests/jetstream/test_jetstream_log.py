"""What the JetStream log promises beyond the shared contract: histories (purge and
re-creation), de-duplication by ``eventId``, reading back by position, waking on an
outside publish, and one-line errors for a log that cannot be used."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec
import nats
import pytest

from events import jetstream_reader
from events import schema as ev
from events.jetstream import JetStreamLog
from events.jetstream_reader import JetStreamReader
from events.log import LogUnavailable, RecordBatch, Rotation
from events.nats_address import BadAddress, NatsAddress
from events.position import Position
from tests.support.nats import NatsServer
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio
TS = "2026-03-06T19:43:11.123Z"


def log_line(number: int, **fields: object) -> ev.RunLog:
    return ev.RunLog(run_id="r", level="info", message=f"line {number}", ts=TS, **fields)


def messages(batch: RecordBatch | Rotation | None) -> list[str]:
    assert isinstance(batch, RecordBatch), batch
    return [json.loads(raw)["message"] for raw in batch.raws]


@pytest.fixture
async def log(nats_server: NatsServer) -> AsyncIterator[JetStreamLog]:
    log = JetStreamLog(nats_server.log_url("TEST"), recheck_s=60)
    yield log
    await log.aclose()


async def purge(server: NatsServer, stream: str = "TEST") -> None:
    client = await nats.connect(server.url)
    await client.jetstream().purge_stream(stream)
    await client.close()


async def recreate(server: NatsServer, stream: str = "TEST") -> None:
    client = await nats.connect(server.url)
    await client.jetstream().delete_stream(stream)
    await client.close()


async def test_records_come_back_in_order_each_at_its_stream_sequence(log: JetStreamLog) -> None:
    first = await log.append([log_line(0)])
    second = await log.append([log_line(1), log_line(2)])
    assert (first.offset, second.offset) == (1, 3)
    batch = await log.reader().read()
    assert messages(batch) == ["line 0", "line 1", "line 2"]
    assert isinstance(batch, RecordBatch)
    assert (batch.start, list(batch.ends), batch.position) == (0, [1, 2, 3], second)
    assert await log.current() == second


async def test_a_reader_resumes_after_any_position_and_in_bounded_batches(
        log: JetStreamLog) -> None:
    await log.append([log_line(n) for n in range(10)])
    reader = log.reader(after=Position((await log.current()).generation, 4))
    first = await reader.read(max_records=3)
    second = await reader.read(max_records=100)
    assert messages(first) == ["line 4", "line 5", "line 6"]
    assert messages(second) == ["line 7", "line 8", "line 9"]
    assert isinstance(second, RecordBatch) and second.start == first.end  # type: ignore[union-attr]
    assert await reader.read() is None


async def read_all(reader: JetStreamReader, **limits: int) -> list[RecordBatch]:
    batches = []
    while (batch := await reader.read(**limits)) is not None:
        assert isinstance(batch, RecordBatch), batch
        batches.append(batch)
    return batches


async def test_many_pulls_ahead_hand_out_every_record_once_in_order(
        log: JetStreamLog, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small pulls, several on their way at once, and reads that end within one.
    monkeypatch.setattr(jetstream_reader, "PULL_BATCH", 16)
    monkeypatch.setattr(jetstream_reader, "PREFETCH", 40)
    await log.append([log_line(n) for n in range(300)])
    reader = log.reader()
    batches = await read_all(reader, max_records=23)
    assert [text for batch in batches for text in messages(batch)] == [
        f"line {n}" for n in range(300)]
    assert [list(batch.ends) for batch in batches] == [
        list(range(start + 1, min(start + 23, 300) + 1)) for start in range(0, 300, 23)]
    assert all(later.start == earlier.end for earlier, later in itertools.pairwise(batches))
    await log.append([log_line(300)])
    assert messages(await reader.read()) == ["line 300"]
    await reader.aclose()


async def test_records_after_deleted_messages_keep_their_own_sequences(
        log: JetStreamLog, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fewer messages than the stream's sequences count: pulls end early ("404").
    monkeypatch.setattr(jetstream_reader, "PULL_BATCH", 8)
    monkeypatch.setattr(jetstream_reader, "PREFETCH", 24)
    await log.append([log_line(n) for n in range(40)])
    client = await nats.connect(nats_server.url)
    for sequence in (5, 6, 17, 24, 40):
        await client.jetstream().delete_msg("TEST", sequence)
    await client.close()
    batches = await read_all(log.reader(), max_records=10)
    kept = [n for n in range(40) if n + 1 not in (5, 6, 17, 24, 40)]
    assert [text for batch in batches for text in messages(batch)] == [
        f"line {n}" for n in kept]
    assert [end for batch in batches for end in batch.ends] == [n + 1 for n in kept]


async def test_a_record_that_is_not_one_line_stays_one_record(
        log: JetStreamLog, nats_server: NatsServer) -> None:
    # Another publisher's pretty-printed JSON, a blank and an empty message: a replay
    # must not decode them as lines, where they would be two records, or none.
    await log.append([log_line(0)])
    odd = [b'{\n "type": "run_log"}', b" \t", b""]
    client = await nats.connect(nats_server.url)
    for payload in odd:
        await client.jetstream().publish(log.subject, payload)
    await client.close()
    batch = await log.reader().read()
    assert isinstance(batch, RecordBatch)
    assert (list(batch.raws[1:]), list(batch.ends), batch.lines) == (odd, [1, 2, 3, 4], None)
    first = await log.reader().read(max_records=1)
    assert isinstance(first, RecordBatch) and first.lines == batch.raws[0] + b"\n"


async def test_an_event_appended_twice_with_one_event_id_is_stored_once(
        log: JetStreamLog) -> None:
    first = await log.append([log_line(0, event_id="e-1")])
    again = await log.append([log_line(0, event_id="e-1")])
    assert again.offset == first.offset
    assert messages(await log.reader().read()) == ["line 0"]


async def test_a_purged_stream_is_another_history_for_readers_and_cursors(
        log: JetStreamLog, nats_server: NatsServer) -> None:
    await log.append([log_line(0), log_line(1)])
    reader = log.reader()
    await reader.read()
    old = reader.position
    await purge(nats_server)
    await log.append([log_line(2)])
    rotation = await reader.read()
    assert isinstance(rotation, Rotation) and rotation.reason == "purged"
    assert messages(await reader.read()) == ["line 2"]
    now = await log.current()
    assert now.generation != old.generation and reader.position == now
    assert isinstance(await log.reader(after=old).read(), Rotation)


async def test_a_re_created_stream_is_another_history(log: JetStreamLog,
                                                      nats_server: NatsServer) -> None:
    await log.append([log_line(0)])
    reader = log.reader()
    await reader.read()
    await recreate(nats_server)
    await log.append([log_line(7)])
    rotation = await reader.read()
    assert isinstance(rotation, Rotation) and rotation.reason == "re-created"
    assert messages(await reader.read()) == ["line 7"]


async def test_records_are_read_back_by_position(log: JetStreamLog) -> None:
    end = await log.append([log_line(0), log_line(1)])
    first = Position(end.generation, 1)
    found = await log.read_at([end, first, Position(end.generation, 99),
                               Position("abc", 1)])
    assert [msgspec.json.decode(raw)["message"] if raw else None for raw in found] == [
        "line 1", "line 0", None, None]


async def test_a_publish_from_another_process_wakes_waiting_readers(
        log: JetStreamLog, nats_server: NatsServer) -> None:
    other = JetStreamLog(nats_server.log_url("TEST"))
    await log.current()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            await tasks.start(log.watch)
            await other.append([log_line(1)])
            await log.changed()
            tasks.cancel_scope.cancel()
    await other.aclose()


async def test_an_existing_stream_is_used_as_it_is(nats_server: NatsServer) -> None:
    client = await nats.connect(nats_server.url)
    await client.jetstream().add_stream(name="MINE", subjects=["harness.MINE.>"],
                                        duplicate_window=30)
    await client.close()
    log = JetStreamLog(nats_server.log_url("MINE"))
    await log.append([log_line(0)])
    assert messages(await log.reader().read()) == ["line 0"]
    await log.aclose()


@pytest.mark.parametrize("text", ["redis://h/S", "nats://h/bad.name", "nats://h:99999/S",
                                  "nats:///S", "nats://h/S?color=red", "nats://h/S?replicas=9",
                                  "nats://h/S?timeout=0", "nats://h/S?timeout=nan",
                                  "nats://h/S?ack_timeout=-1", "nats://h/S?ack_timeout=soon"])
def test_a_bad_address_is_refused_with_one_line(text: str) -> None:
    with pytest.raises(BadAddress) as refused:
        NatsAddress.parse(text)
    assert "\n" not in str(refused.value)


def test_an_address_names_servers_stream_and_credentials_without_showing_secrets() -> None:
    address = NatsAddress.parse("nats://me:s3cret@a:1,b/RUNS?replicas=3")
    assert address.hosts == ("a:1", "b:4222") and address.stream == "RUNS"
    assert address.replicas == 3 and "s3cret" not in str(address)
    assert address.connect_options()["password"] == "s3cret"
    assert (address.timeout_s, address.ack_timeout_s) == (5, 10)  # the defaults
    tuned = NatsAddress.parse("nats://a/RUNS?timeout=0.5&ack_timeout=2")
    assert (tuned.timeout_s, tuned.ack_timeout_s) == (0.5, 2)
    assert "timeout" not in str(tuned) and "timeout" not in repr(tuned.connect_options())


async def test_an_unreachable_server_is_a_one_line_error() -> None:
    log = JetStreamLog(f"nats://127.0.0.1:{free_port()}/TEST", connect_timeout_s=0.2)
    with pytest.raises(LogUnavailable) as refused:
        await log.current()
    assert "cannot connect to NATS at nats://127.0.0.1" in str(refused.value)
    assert "\n" not in str(refused.value)


async def test_missing_stream_permissions_are_a_one_line_error(
        restricted_server: NatsServer) -> None:
    # The refused request times out (NATS answers a denied publish with no reply);
    # the refusal itself arrives apart from it and is what the error names.
    log = JetStreamLog(f"nats://worker:pw@127.0.0.1:{restricted_server.port}/TEST?timeout=0.5")
    with pytest.raises(LogUnavailable) as refused:
        await log.current()
    message = str(refused.value)
    assert "no permission" in message, message
    assert "$js.api.stream.info.test" in message.lower(), message
    assert "pw" not in message.replace("permission", "")
    await log.aclose()


async def test_wrong_credentials_are_a_one_line_error(restricted_server: NatsServer) -> None:
    log = JetStreamLog(f"nats://worker:nope@127.0.0.1:{restricted_server.port}/TEST",
                       connect_timeout_s=2)
    with pytest.raises(LogUnavailable) as refused:
        await log.current()
    assert "authorization violation" in str(refused.value)


async def test_a_server_without_jetstream_is_a_one_line_error(tmp_path: Path) -> None:
    plain = NatsServer(tmp_path / "plain", jetstream=False)
    plain.start()
    try:
        log = JetStreamLog(plain.log_url("TEST"))
        with pytest.raises(LogUnavailable) as refused:
            await log.current()
        assert "JetStream is not enabled" in str(refused.value)
        await log.aclose()
    finally:
        plain.stop()


async def test_refused_credentials_leave_no_socket_open(restricted_server: NatsServer) -> None:
    # Every request with wrong credentials connects afresh; a process retrying must not
    # pile up file descriptors until it hits EMFILE.
    log = JetStreamLog(f"nats://worker:nope@127.0.0.1:{restricted_server.port}/TEST",
                       connect_timeout_s=2)
    open_before = len(os.listdir("/proc/self/fd"))
    for _ in range(10):
        with pytest.raises(LogUnavailable):
            await log.current()
    await log.aclose()
    assert len(os.listdir("/proc/self/fd")) <= open_before


async def test_health_never_shows_a_disconnection_without_its_outage(log: JetStreamLog,
                                                                      nats_server: NatsServer
                                                                      ) -> None:
    """Looked at on every turn of the event loop through an outage: a report that says
    disconnected says since when, and one that says connected has no outage going on."""
    await log.append([log_line(1)])
    nats_server.stop()
    with anyio.fail_after(10):
        while (report := log.report()).connected:
            await anyio.sleep(0)  # no wait longer than a turn: the gap lasts about one
    assert (report.outages, report.down_since is not None) == (1, True)
    nats_server.start()
    with anyio.fail_after(30):
        while not (report := log.report()).connected:
            assert report.down_since is not None, report
            await anyio.sleep(0)
    assert (report.outages, report.down_since) == (1, None)
    assert report.last_outage_s is not None
