"""SSE fan-out: one writer per batch hands the same frame bytes to every client.

The fan-out listens to the bus *synchronously*: when the live log publishes a batch,
``publish`` encodes its frames once per kind of client (everything; the board only;
a run filter) and hands those bytes to each client. A client whose connection is
idle in its live loop, with nothing pending and a socket that takes more, gets them
written to its socket there and then (``StreamClient.write_now``, our HTTP protocol's
direct body writer): one ``transport.write``, no task woken. Otherwise they go to the
client's pending list, waking its connection if it was idle; the connection's own
coroutine — the ASGI call uvicorn already runs — joins what is pending and sends it
in one write, through ASGI. As the direct write is taken only while nothing is
pending and no send is under way, the two paths never reorder a client's frames.
A client costs a small ``StreamClient`` and one parked task that waits for the
disconnect.

Before the frames are encoded, ``coalescer`` (``web.coalescing``) holds back the
updates of running items sent within the last quarter second; ``run`` sends their
then-current state when each item's window ends, with the last batch's id. Clients that
asked for text deltas get a running item's update as a ``run_item_delta`` where one can
be made against what was last sent of it (``projections.text_deltas``).

Slow consumers never slow the reader or anybody else: a client's pending list is
bounded (``max_batches`` batches or ``max_bytes`` bytes). Past either, or when a send
has not completed for ``stall_s`` seconds, the client is cut off at once; it resumes
with ``Last-Event-ID``. A client still taking its opening (a resume's backlog) is not
cut off for lagging: its live batches are dropped and it resumes from the opening's end.
One housekeeping task (``run``) sends the pings, cuts off stalled clients and ends every
stream when the server shuts down.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from sse_starlette.sse import AppStatus

from events.bus import Broadcast
from harness.live import LogBatch, LogReset
from projections.messages import StreamMessage
from projections.text_deltas import TextBases
from web.coalescing import ItemCoalescer

# A comment for proxies, and a named event a page can run a watchdog on.
PING_FRAME = b": ping\nevent: ping\ndata: \n\n"
TICK_S = 0.5  # how often shutdown and stalled sends are checked

FrameEncoder = Callable[[list[StreamMessage], str], bytes]


class StreamClient:
    """One SSE connection's share of the fan-out.

    ``run_ids`` filters to some runs (empty: all); ``board_only`` leaves out
    ``run_item`` messages; ``text_deltas`` takes ``run_item_delta`` messages for running
    items where they can be made (``projections.text_deltas``).
    """

    __slots__ = ("board_only", "cancel", "cut_off", "in_opening", "overran", "pending",
                 "pending_bytes", "run_ids", "sending_since", "text_deltas", "wake",
                 "write_now")

    def __init__(self, *, run_ids: frozenset[str], board_only: bool,
                 text_deltas: bool = False) -> None:
        self.run_ids = run_ids
        self.board_only = board_only
        self.text_deltas = text_deltas and not board_only
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.wake = anyio.Event()
        self.cut_off = False
        self.sending_since: float | None = None
        self.cancel: anyio.CancelScope | None = None  # the connection's, to hang up
        # While its opening (what it missed) is sent, live batches wait behind it; past
        # the bound they are dropped and ``overran`` says the opening must be followed
        # by a resume from its own end instead (``web.sse.LiveStream``).
        self.in_opening = False
        self.overran = False
        # Set while the connection waits in its live loop, if the server offers it:
        # writes a body chunk to the socket now, or says it cannot without waiting.
        self.write_now: Callable[[bytes], bool] | None = None

    def take(self) -> bytes:
        """Everything pending, in one piece, and a fresh wake-up for what comes next."""
        pending = self.pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self.pending = []
        self.pending_bytes = 0
        self.wake = anyio.Event()
        return data

    def push(self, frames: bytes) -> None:
        idle = not self.pending
        self.pending.append(frames)
        self.pending_bytes += len(frames)
        if idle:
            self.wake.set()

    def hang_up(self, *, abort: bool) -> None:
        """End the stream: after what is pending, or at once (``abort``: even in the
        middle of a send to a socket that no longer drains)."""
        self.cut_off = True
        self.wake.set()
        if abort and self.cancel is not None:
            self.cancel.cancel()


class Fanout:
    """Every SSE client of one server, fed from ``bus`` by one synchronous writer.

    ``encode`` turns messages and the batch's cursor into frames; ``reset`` turns a
    reset into its frame. ``ping_s`` is how often every client gets a ping.
    """

    def __init__(self, bus: Broadcast[LogBatch | LogReset], *, encode: FrameEncoder,
                 reset: Callable[[LogReset], bytes], coalescer: ItemCoalescer | None = None,
                 max_batches: int = 1024, max_bytes: int = 8 << 20, ping_s: float = 10.0,
                 stall_s: float = 30.0) -> None:
        self._bus = bus
        self._encode = encode
        self._reset = reset
        self.coalescer = coalescer
        self.text_bases = TextBases()  # what running items' deltas are made against
        self._cursor: str | None = None  # the last batch's, for held updates sent later
        self._holding = anyio.Event()  # set when the coalescer starts holding updates
        self.max_batches = max_batches
        self.max_bytes = max_bytes
        self.ping_s = ping_s
        self.stall_s = stall_s
        self.clients: dict[StreamClient, None] = {}
        self.dropped = 0
        self.closed = False
        # Frames handed to clients: written to the socket at once, or left pending.
        self.written_at_once = 0
        self.left_pending = 0

    def attach(self, client: StreamClient) -> None:
        """Feed ``client`` from the next batch on. The bus is listened to only while
        there are clients, so that an unwatched log encodes no messages."""
        if not self.clients:
            self._bus.listen(self.publish)
        self.clients[client] = None

    def detach(self, client: StreamClient) -> None:
        if self.clients.pop(client, 0) is None and not self.clients:
            self._bus.unlisten(self.publish)
            # Unheard from now on, what was held or last sent would go stale: a later
            # client would be sent held updates under an old cursor, or deltas against
            # what it was never sent. It starts from its own opening instead.
            if self.coalescer is not None:
                self.coalescer.clear()
            self.text_bases.clear()
            self._cursor = None

    def publish(self, message: LogBatch | LogReset) -> None:
        """Hand ``message``'s frames to every client; called by the bus as it publishes."""
        if isinstance(message, LogReset):
            if self.coalescer is not None:
                self.coalescer.clear()
            self.text_bases.clear()
            frame = self._reset(message)
            for client in list(self.clients):
                self._push(client, frame)
            return
        self._cursor = cursor = str(message.position)
        messages = message.messages
        if self.coalescer is not None:
            was_holding = self.coalescer.holding
            messages = self.coalescer.pass_on(messages)
            if not was_holding and self.coalescer.holding:
                self._holding.set()
        self._hand_out(messages, cursor, before=message.messages)

    def _hand_out(self, messages: list[StreamMessage], cursor: str, *,
                  before: list[StreamMessage]) -> None:
        """Push ``messages``' frames to every client that wants any of them. A client
        that wanted some of ``before`` (the batch before coalescing) but gets none of
        ``messages`` is still sent the cursor, so it knows how far it is. Clients that
        take text deltas get ``compacted``, made once for all of them."""
        everything: bytes | None = None
        everything_compacted: bytes | None = None
        board: bytes | None = None
        compacted: list[StreamMessage] | None = None
        for client in list(self.clients):
            sent = messages
            if client.text_deltas:
                if compacted is None:
                    compacted = self.text_bases.compact(messages)
                sent = compacted
            if client.run_ids:
                frames = self._frames(_chosen(sent, client), cursor,
                                      wanted=bool(_chosen(before, client)))
            elif client.board_only:
                if board is None:
                    chosen = _chosen(messages, client)
                    board = self._frames(chosen, cursor, wanted=bool(chosen))
                frames = board
            elif client.text_deltas:
                if everything_compacted is None:
                    everything_compacted = self._frames(sent, cursor, wanted=bool(before))
                frames = everything_compacted
            else:
                if everything is None:
                    everything = self._frames(messages, cursor, wanted=bool(before))
                frames = everything
            if frames:
                self._push(client, frames)
        if compacted is None:
            self.text_bases.note(messages)

    def _frames(self, messages: list[StreamMessage], cursor: str, *, wanted: bool) -> bytes:
        if messages:
            return self._encode(messages, cursor)
        return b"id: %s\n\n" % cursor.encode() if wanted else b""

    async def _send_held(self) -> None:
        """Send held running items' current state as their windows end; forever."""
        coalescer = self.coalescer
        assert coalescer is not None
        while True:
            due = coalescer.next_due()
            if due is None:
                self._holding = anyio.Event()
                await self._holding.wait()
                continue
            await anyio.sleep(max(0.0, due - time.monotonic()))
            released = coalescer.due()
            if released and self._cursor is not None and self.clients:
                self._hand_out(released, self._cursor, before=released)

    def _push(self, client: StreamClient, frames: bytes) -> None:
        if client.overran:
            return
        if (client.write_now is not None and not client.pending
                and client.sending_since is None and client.write_now(frames)):
            self.written_at_once += 1  # after all sent before: none waits or is sending
            return
        if (len(client.pending) >= self.max_batches
                or client.pending_bytes + len(frames) > self.max_bytes):
            if client.in_opening:
                # A long opening is not a slow consumer: cutting it off would make it
                # start over from the same cursor, forever, under steady writes.
                client.overran = True
                client.take()
                return
            self._cut_off(client)
            return
        self.left_pending += 1
        client.push(frames)

    def _cut_off(self, client: StreamClient) -> None:
        self.dropped += 1
        self.detach(client)
        client.hang_up(abort=True)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Ping, cut off stalled sends, send held updates, and end every stream at
        shutdown; until cancelled."""
        async with anyio.create_task_group() as tasks:
            if self.coalescer is not None:
                tasks.start_soon(self._send_held)
            task_status.started()
            await self._housekeeping()

    async def _housekeeping(self) -> None:
        next_ping = time.monotonic() + self.ping_s
        while True:
            await anyio.sleep(TICK_S)
            # uvicorn is stopping. Our HTTP protocol ends each stream of the stopping
            # server at once (``web.connections.SHUTDOWN_EXTENSION``); a bare uvicorn's
            # streams have only this process-wide flag.
            if AppStatus.should_exit:
                self.close()
            now = time.monotonic()
            for client in list(self.clients):
                since = client.sending_since
                if since is not None and now - since > self.stall_s:
                    # It stopped reading: hung up, not "dropped" for falling behind.
                    self.detach(client)
                    client.hang_up(abort=True)
            if now >= next_ping:
                next_ping = now + self.ping_s
                for client in list(self.clients):
                    self._push(client, PING_FRAME)

    def close(self) -> None:
        """End every stream (at shutdown); later connections end at once."""
        self.closed = True
        for client in list(self.clients):
            self.end(client)

    def end(self, client: StreamClient) -> None:
        """End ``client``'s stream after what is pending: nothing more is handed to it."""
        self.detach(client)
        client.hang_up(abort=False)


def _chosen(messages: list[StreamMessage], client: StreamClient) -> list[StreamMessage]:
    return [m for m in messages
            if (not client.run_ids or m.run_id in client.run_ids)
            and not (client.board_only and m.sequence is not None)]
