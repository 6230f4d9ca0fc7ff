"""One attempt at one item: prompt the provider, stream its answer into the log, judge it.

The events of an item go to the log as they happen, without waiting for the read
models to fold them: ``item_started``, ``item_delta`` while the answer streams, then
``item_answered`` and ``item_judged`` in one write — or ``item_faulted`` when the
provider fails or the run is canceled.

Chunks that arrive within ``DELTA_COALESCE_S`` of the last delta written are merged
into the next one, so a provider that streams hundreds of tiny chunks at once does not
write hundreds of lines; a merged chunk waits at most until the next chunk or the end
of the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from events.schema import (
    Event,
    ItemAnswered,
    ItemDelta,
    ItemFaulted,
    ItemJudged,
    ItemStarted,
    Usage,
)
from events.writer import now_timestamp
from harness.commands import CANCELED
from harness.datasets import DatasetItem, render_prompt
from harness.errors import WriteRefused
from harness.judge import judge_choice
from harness.providers.base import Prompt, Provider, ProviderError

logger = logging.getLogger("harness.executor")

DELTA_COALESCE_S = 0.025


@dataclass(frozen=True, kw_only=True, eq=False)
class ItemRunner:
    """Runs the items of one run. ``write`` appends events to the log; ``canceling``
    says whether the run is being canceled (rather than the server shutting down, which
    leaves in-flight items running in the log so that the next start resumes them)."""

    run_id: str
    provider: Provider
    model: str
    config: dict[str, Any]
    write: Callable[[list[Event]], Awaitable[object]]
    canceling: Callable[[], bool]

    async def run(self, item: DatasetItem, *, attempt: int) -> str | None:
        """Run ``item``; the error it faulted with, or ``None`` once it is judged."""
        sequence = item.sequence
        text = render_prompt(item)
        await self.write([ItemStarted(run_id=self.run_id, sequence=sequence, prompt_text=text,
                                choices=tuple(item.choices), ts=now_timestamp())])
        prompt = Prompt(run_id=self.run_id, sequence=sequence, attempt=attempt, text=text,
                        choices=item.choices, expected=item.answer)
        try:
            response, usage, latency_ms = await self._answer(prompt)
        except anyio.get_cancelled_exc_class():
            if self.canceling():
                with anyio.CancelScope(shield=True):  # the cancel is recorded whole
                    await self._fault(sequence, CANCELED, canceled=True)
            raise
        except ProviderError as error:
            return await self._fault(sequence, error.message)
        except WriteRefused:
            raise  # the log refused a write: the executor stops the run and resumes it later
        except Exception as error:  # a provider's bug faults its item, not the whole run
            logger.exception("provider %s failed on run %s item %d",
                             type(self.provider).__name__, self.run_id, sequence)
            return await self._fault(sequence, f"provider crashed: {error!r}")
        verdict = judge_choice(item, response)
        now = now_timestamp()
        await self.write([
            ItemAnswered(run_id=self.run_id, sequence=sequence, response_text=response,
                         answer=verdict.answer, latency_ms=round(latency_ms, 3), usage=usage,
                         ts=now),
            ItemJudged(run_id=self.run_id, sequence=sequence, correct=verdict.correct,
                       expected=verdict.expected, judge=verdict.judge, ts=now),
        ])
        return None

    async def judge_answered(self, item: DatasetItem, response: str) -> None:
        """Judge an answer the model gave before the run was interrupted, without asking
        it again."""
        verdict = judge_choice(item, response)
        await self.write([ItemJudged(run_id=self.run_id, sequence=item.sequence,
                                     correct=verdict.correct, expected=verdict.expected,
                                     judge=verdict.judge, ts=now_timestamp())])

    async def _fault(self, sequence: int, error: str, *, canceled: bool = False) -> str:
        await self.write([ItemFaulted(run_id=self.run_id, sequence=sequence, error=error,
                                canceled=canceled, ts=now_timestamp())])
        return error

    async def _answer(self, prompt: Prompt) -> tuple[str, Usage | None, float]:
        """The full response, its usage and its latency in milliseconds. Providers retry
        what is worth retrying themselves; an error that reaches here faults the item."""
        parts: list[str] = []
        started = time.perf_counter()
        usage = await self._stream(prompt, parts)
        return "".join(parts), usage, (time.perf_counter() - started) * 1000

    async def _stream(self, prompt: Prompt, parts: list[str]) -> Usage | None:
        """Stream the provider's answer into ``parts``, writing it as deltas."""
        usage: Usage | None = None
        unwritten: list[str] = []
        last_write = float("-inf")
        stream = self.provider.stream(prompt, model=self.model, config=self.config)
        try:
            async for piece in stream:
                if isinstance(piece, Usage):
                    usage = piece
                    continue
                parts.append(piece)
                unwritten.append(piece)
                now = time.perf_counter()
                if now - last_write >= DELTA_COALESCE_S:
                    await self._delta(prompt.sequence, unwritten)
                    last_write = now
        finally:
            # What arrived is shown even when the answer broke off.
            with anyio.CancelScope(shield=True):
                await self._delta(prompt.sequence, unwritten)
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        return usage

    async def _delta(self, sequence: int, unwritten: list[str]) -> None:
        text = "".join(unwritten)
        unwritten.clear()
        if text:
            await self.write([ItemDelta(run_id=self.run_id, sequence=sequence, text=text,
                                  ts=now_timestamp())])
