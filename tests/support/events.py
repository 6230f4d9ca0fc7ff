"""Building event histories for tests, as the typed events the log holds."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from events import schema as ev
from events.log import batch_of_lines
from events.writer import append_events, encode_line
from projections.readmodels import ReadModels


def at(text: str) -> datetime:
    """A log timestamp as events and the read models hold it."""
    return datetime.fromisoformat(text)


TS_TEXT = "2026-03-06T19:43:11.123Z"
TS = at(TS_TEXT)


def run_history(run_id: str, *, total: int = 3, answers: tuple[bool, ...] = (True, False, True),
                finish: str | None = "completed", prompt: str = "Q{}?") -> list[ev.Event]:
    """A whole run: created, started, each item started/streamed/answered/judged, finished."""
    events: list[ev.Event] = [
        ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="gpt-test",
                      dataset_name="arithmetic", total=total, ts=TS),
        ev.RunStarted(run_id=run_id, ts=TS),
    ]
    for sequence, correct in enumerate(answers, start=1):
        events += [
            ev.ItemStarted(run_id=run_id, sequence=sequence, prompt_text=prompt.format(sequence),
                           choices=("A", "B"), ts=TS),
            ev.ItemDelta(run_id=run_id, sequence=sequence, text="Answer: A", ts=TS),
            ev.ItemAnswered(run_id=run_id, sequence=sequence, response_text="Answer: A",
                            answer="A", latency_ms=12.5, ts=TS),
            ev.ItemJudged(run_id=run_id, sequence=sequence, correct=correct, expected="A", ts=TS),
        ]
    if finish:
        events.append(ev.RunFinished(run_id=run_id, status=finish, ts=TS))  # type: ignore[arg-type]
    return events


def append(path: Path, *events: ev.Event | dict) -> int:
    return append_events(path, events)


def line_of(event: ev.Event | dict) -> bytes:
    """The event's line in the log, without its newline."""
    return encode_line(event).rstrip(b"\n")


def fold(*events: ev.Event | dict) -> ReadModels:
    """Read models of ``events`` folded as the server folds them: as log lines."""
    models = ReadModels()
    data = b"".join(encode_line(event) for event in events)
    models.apply_batch(batch_of_lines(data, start=0, generation="g"))
    return models
