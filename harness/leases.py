"""Who executes a run: a lease per run, so that exactly one replica runs it at a time.

With the file log one process executes the runs of a data directory (SPEC §7.4), so its
leases are always granted (``LocalLeases``). With JetStream, any number of replicas
follow one stream and each may execute runs; ``KvLeases`` keeps one key per run in a
JetStream key-value bucket:

- ``acquire`` creates the key with this replica's id — refused while another holds it;
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
from typing import Protocol

import nats

from events.jetstream import JetStreamLog
from events.nats_connection import LogUnavailable

logger = logging.getLogger("harness.leases")

LEASE_TTL_S = 10.0


class RunLeases(Protocol):
    shared: bool  # whether other processes may hold leases too (replicas)

    async def acquire(self, run_id: str) -> bool:
        """Take the run's lease; ``False`` if another process holds it."""
        ...

    async def renew(self, run_id: str) -> bool:
        """Keep the lease; ``False`` if it was lost (expired and taken, or unreachable
        for longer than it lives)."""
        ...

    async def release(self, run_id: str) -> None: ...


class LocalLeases:
    """One process executes every run: every lease is granted."""

    shared = False

    async def acquire(self, run_id: str) -> bool:
        return True

    async def renew(self, run_id: str) -> bool:
        return True

    async def release(self, run_id: str) -> None:
        pass


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
        kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
        try:
            revision = await self.log.call(kv.create(_key(run_id), self.owner.encode()),
                                           f"take the lease of run {run_id}")
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        self._revisions[run_id] = revision
        self._renewed_at[run_id] = time.monotonic()
        return True

    async def renew(self, run_id: str) -> bool:
        revision = self._revisions.get(run_id)
        if revision is None:
            return False
        kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
        try:
            self._revisions[run_id] = await self.log.call(
                kv.update(_key(run_id), self.owner.encode(), last=revision),
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
        kv = await self.log.key_value("leases", ttl_s=self.ttl_s)
        try:
            await self.log.call(kv.delete(_key(run_id), last=revision),
                                f"release the lease of run {run_id}")
        except (nats.js.errors.KeyValueError, LogUnavailable) as error:
            logger.warning("could not release the lease of run %s (it expires): %s",
                           run_id, error)


def _key(run_id: str) -> str:
    # Keys allow letters, digits and ``-_=./``; run ids are made of those, but a run
    # created by another writer might not be.
    return "run." + "".join(c if c.isalnum() or c in "-_=" else "_" for c in run_id)
