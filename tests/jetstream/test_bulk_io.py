"""The bulk paths beside nats-py: raw inboxes get their messages' bytes untouched while
every other subscription still gets nats-py's messages; the publish window stores each
message once, in order, and says which were repeats."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import anyio
import pytest
from nats.aio.client import Client

from events.jetstream import JetStreamLog
from events.log import LogUnavailable, RecordBatch
from events.nats_frames import FrameParser, RawInbox, new_client, subscribe_raw
from events.nats_publish import NoStream, PublishWindow, headers_block
from tests.support.nats import NatsServer

pytestmark = pytest.mark.anyio

# Payloads that look like protocol, or hold what a parser might split on.
TRICKY = [b"", b"\r\n", b"MSG a 1 5\r\nhello\r\n", b"HMSG x 9 2 2\r\n\r\n", b" " * 40,
          "é\u2028".encode(), bytes(range(256))]


@pytest.fixture
async def client(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = new_client()
    await client.connect(nats_server.url)
    yield client
    await client.close()


async def test_raw_and_ordinary_subscriptions_each_get_their_own_messages_whole(
        client: Client) -> None:
    raw = await subscribe_raw(client, "raw.>", RawInbox())
    ordinary = await client.subscribe("plain.>")
    sent_raw, sent_plain = [], []
    for number in range(600):
        payload = TRICKY[number % len(TRICKY)] + str(number).encode()
        if number % 3:
            sent_raw.append(payload)
            await client.publish(f"raw.{number}", payload, reply=f"back.{number}",
                                 headers={"Nats-Msg-Id": f"id {number}"} if number % 2 else None)
        else:
            sent_plain.append(payload)
            await client.publish(f"plain.{number}", payload, headers={"K": f"v{number}"})
    await client.flush()

    got: list[tuple[bytes, bytes, bytes | None, bytes]] = []
    with anyio.fail_after(10):
        while len(got) < len(sent_raw):
            await raw.wait(1)
            got += raw.take()
    assert [payload for *_, payload in got] == sent_raw
    subject, reply, headers, _ = got[0]
    assert (subject, reply) == (b"raw.1", b"back.1")
    assert headers == b"NATS/1.0\r\nNats-Msg-Id: id 1\r\n\r\n"
    assert got[1][2] is None  # no headers: a plain MSG
    plain = [await ordinary.next_msg(timeout=5) for _ in sent_plain]
    assert [message.data for message in plain] == sent_plain
    assert plain[1].headers == {"K": "v3"}


async def test_frames_split_anywhere_across_reads_come_out_the_same() -> None:
    """The parser against arbitrary cuts of one stream of bytes from the server."""

    class Seen:  # what nats-py's parser hands the client for the frames it keeps
        def __init__(self) -> None:
            self.messages: list[tuple[int, bytes, bytes]] = []
            self.pings = 0

        async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes,
                               headers: bytes | None) -> None:
            self.messages.append((sid, subject, data))

        async def _process_ping(self) -> None:
            self.pings += 1

    frames: list[bytes] = []
    expected_raw: list[tuple[bytes, bytes, bytes | None, bytes]] = []
    expected_kept: list[tuple[int, bytes, bytes]] = []
    for number in range(300):
        payload = TRICKY[number % len(TRICKY)] + str(number).encode()
        if number % 5 == 0:
            frames.append(b"PING\r\n")
        if number % 4 == 0:
            frames.append(b"MSG other 2 %d\r\n%s\r\n" % (len(payload), payload))
            expected_kept.append((2, b"other", payload))
        elif number % 4 == 1:  # no reply: nats-server leaves its place empty
            frames.append(b"MSG in.%d 1  %d\r\n%s\r\n" % (number, len(payload), payload))
            expected_raw.append((b"in.%d" % number, b"", None, payload))
        else:
            headers = b"NATS/1.0\r\nNats-Msg-Id: %d\r\n\r\n" % number
            spacing = b"  " if number % 4 == 3 else b" "  # the odd one takes the slow path
            frames.append(b"HMSG in.%d 1 r.%d%s%d %d\r\n%s%s\r\n" % (
                number, number, spacing, len(headers), len(headers) + len(payload),
                headers, payload))
            expected_raw.append((b"in.%d" % number, b"r.%d" % number, headers, payload))
    data = b"".join(frames)
    for seed in range(20):
        cuts = sorted(random.Random(seed).sample(range(1, len(data)), 200 if seed else 0))
        seen = Seen()
        parser = FrameParser(seen)
        inbox = RawInbox()
        parser.inboxes[1] = inbox
        for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
            await parser.parse(data[start:end])
        assert inbox.take() == expected_raw
        assert seen.messages == expected_kept
        assert seen.pings == 60
        assert not parser.buf


@pytest.fixture
async def log(nats_server: NatsServer) -> AsyncIterator[JetStreamLog]:
    log = JetStreamLog(nats_server.log_url("BULK"), recheck_s=60)
    await log.history()
    yield log
    await log.aclose()


async def test_a_window_smaller_than_the_batch_stores_every_message_once_in_order(
        log: JetStreamLog, client: Client) -> None:
    window = PublishWindow(client, window=16)
    messages = [(headers_block(f"m{n}"), b'{"n":%d}' % n) for n in range(1000)]
    stored = await window.publish("harness.BULK.events", messages)
    again = await window.publish("harness.BULK.events", messages[990:])
    assert [answer.seq for answer in stored] == list(range(1, 1001))
    assert not any(answer.duplicate for answer in stored)
    assert [(answer.seq, answer.duplicate) for answer in again] == [
        (seq, True) for seq in range(991, 1001)]
    batch = await log.reader().read(max_records=2000)
    assert isinstance(batch, RecordBatch)
    assert list(batch.raws) == [payload for _, payload in messages]


async def test_an_event_id_a_header_cannot_carry_still_dedupes(log: JetStreamLog) -> None:
    event = {"type": "run_log", "runId": "r", "level": "info", "message": "m",
             "ts": "2026-03-06T19:43:11.123Z", "eventId": "two\r\nlines: and spaces "}
    first = await log.append([event])
    second = await log.append([event])
    assert first == second
    assert (await log.current()).offset == 1


async def test_a_subject_no_stream_takes_is_no_stream(log: JetStreamLog,
                                                      client: Client) -> None:
    with pytest.raises(NoStream):
        await PublishWindow(client).publish("nobody.listens", [(headers_block("x"), b"{}")])


async def test_a_message_the_stream_refuses_is_log_unavailable(
        nats_server: NatsServer, client: Client) -> None:
    js = client.jetstream()
    await js.add_stream(name="SMALL", subjects=["small.>"], max_msg_size=64)
    with pytest.raises(LogUnavailable, match="refused"):
        await PublishWindow(client).publish("small.x", [(headers_block("y"), b"x" * 200)])
