"""Run leases in a JetStream key-value bucket: the replicas' ``harness.leases.RunLeases``.

One key per run in the stream's ``STREAM-leases`` bucket, holding the holder's id:

- ``acquire`` creates the key — refused while another replica holds it;
- the holder renews it (``update`` with the revision it last wrote) every
  ``renew_every_s``; a renewal that fails means the lease is lost: stop the run;
- a key not renewed for the bucket's ``ttl_s`` disappears (the bucket's max age: per-key
  TTLs need a newer nats-server than Debian's 2.9), and another replica's ``acquire``
  takes the run over and resumes it;
- ``release`` deletes the key when the run ends here.
"""

from __future__ import annotations

import logging
import time
import uuid

import nats

from events.jetstream import JetStreamLog
from events.log import LogUnavailable
from harness.leases import LEASE_TTL_S

logger = logging.getLogger("harness.leases")


class KvLeases:
    """Leases in the ``STREAM-leases`` bucket of ``log``, held as ``owner``.

    ``ttl_s`` is the bucket's key lifetime, used when this process creates the bucket:
    a dead holder's runs are taken over about that long after it stopped renewing.
    """

    shared = True

    def __init__(self, log: JetStreamLog, *, ttl_s: float = LEASE_TTL_S,
                 owner: str | None = None) -> None:
        self.log = log
        self.ttl_s = ttl_s
        self.owner = owner or uuid.uuid4().hex[:12]
        self.renew_every_s = ttl_s / 4
        self._revisions: dict[str, int] = {}
        self._renewed_at: dict[str, float] = {}  # time.monotonic() of the last write

    async def acquire(self, run_id: str) -> bool:
        revision = await self._create(_key("run", run_id), f"take the lease of run {run_id}")
        if revision is None:
            return False
        self._revisions[run_id] = revision
        self._renewed_at[run_id] = time.monotonic()
        return True

    async def claim_queued(self, queue_id: str) -> bool:
        return await self._create(_key("queue", queue_id),
                                  f"claim queued run {queue_id}") is not None

    async def held_elsewhere(self, run_id: str) -> bool:
        kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
        try:
            entry = await self.log.call(kv.get(_key("run", run_id)), "look up a lease")
        except nats.js.errors.KeyNotFoundError:  # also a deleted one
            return False
        return entry.value is not None and entry.value.decode() != self.owner

    async def _create(self, key: str, doing: str) -> int | None:
        """The revision of ``key`` written with this owner, or ``None`` if another holds
        it. A key this owner still holds (a run an outage stopped here) is taken again."""
        kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
        try:
            return await self.log.call(kv.create(key, self.owner.encode()), doing)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        except nats.js.errors.KeyNotFoundError:
            # nats-py's create looked the held key up and it had expired meanwhile: the
            # lease is free now, and the caller's next try (a pass later) takes it.
            return None
        try:
            entry = await self.log.call(kv.get(key), doing)
            if entry.value != self.owner.encode() or entry.revision is None:
                return None
            return await self.log.call(kv.update(key, self.owner.encode(),
                                                 last=entry.revision), doing)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyWrongLastSequenceError):
            return None  # gone or changed meanwhile: ask again next time

    async def renew(self, run_id: str) -> bool:
        revision = self._revisions.get(run_id)
        if revision is None:
            return False
        try:
            kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
            self._revisions[run_id] = await self.log.call(
                kv.update(_key("run", run_id), self.owner.encode(), last=revision),
                f"renew the lease of run {run_id}")
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyNotFoundError):
            logger.warning("lost the lease of run %s: it expired", run_id)
            self._forget(run_id)
            return False
        except LogUnavailable as error:
            # Unreachable for now: the lease is still ours until the bucket would have
            # dropped it; stop the run before then.
            logger.warning("cannot renew the lease of run %s: %s", run_id, error)
            if time.monotonic() - self._renewed_at[run_id] < self.ttl_s - self.renew_every_s:
                return True
            self._forget(run_id)
            # What nats-py buffered to send once it reconnects (this run's last events)
            # would land after another replica took the run over: drop it with the client.
            await self.log.connection.close()
            return False
        self._renewed_at[run_id] = time.monotonic()
        return True

    def _forget(self, run_id: str) -> None:
        self._revisions.pop(run_id, None)
        self._renewed_at.pop(run_id, None)

    async def release(self, run_id: str) -> None:
        revision = self._revisions.get(run_id)
        self._forget(run_id)
        if revision is None:
            return
        try:
            kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
            await self.log.call(kv.delete(_key("run", run_id), last=revision),
                                f"release the lease of run {run_id}")
        except (nats.js.errors.KeyValueError, LogUnavailable) as error:
            logger.warning("could not release the lease of run %s (it expires): %s",
                           run_id, error)


def _key(kind: str, name: str) -> str:
    # Keys allow letters, digits and ``-_=./``; the harness's ids are made of those, but
    # a run created by another writer might not be.
    return f"{kind}." + "".join(c if c.isascii() and (c.isalnum() or c in "-_=") else "_"
                                for c in name)
