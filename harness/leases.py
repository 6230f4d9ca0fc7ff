"""Who executes a run: a lease per run, so that exactly one replica runs it at a time.

With the file log one process executes the runs of a data directory (SPEC §7.4), so its
leases are always granted (``LocalLeases``). With JetStream, any number of replicas
follow one stream and each may execute runs; ``harness.kv_leases.KvLeases`` keeps them
in JetStream key-value (the ``nats`` extra).
"""

from __future__ import annotations

from typing import Protocol

LEASE_TTL_S = 10.0


class RunLeases(Protocol):
    shared: bool  # whether other processes may hold leases too (replicas)
    renew_every_s: float

    async def acquire(self, run_id: str) -> bool:
        """Take the run's lease; ``False`` if another process holds it."""
        ...

    async def renew(self, run_id: str) -> bool:
        """Keep the lease; ``False`` if it was lost (expired and taken, or unreachable
        for longer than it lives)."""
        ...

    async def release(self, run_id: str) -> None: ...

    async def held_elsewhere(self, run_id: str) -> bool:
        """Whether another process holds the run's lease now."""
        ...

    async def claim_queued(self, queue_id: str) -> bool:
        """Claim the dispatch of a queued run; ``False`` if another process did. A claim
        is never renewed: it lasts until the dispatch is in everyone's log."""
        ...


class LocalLeases:
    """One process executes every run: every lease is granted."""

    shared = False
    renew_every_s = LEASE_TTL_S

    async def acquire(self, run_id: str) -> bool:
        return True

    async def renew(self, run_id: str) -> bool:
        return True

    async def release(self, run_id: str) -> None:
        pass

    async def held_elsewhere(self, run_id: str) -> bool:
        return False

    async def claim_queued(self, queue_id: str) -> bool:
        return True
