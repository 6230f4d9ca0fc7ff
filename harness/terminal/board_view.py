"""How ``harness watch`` draws runs: a live table of bars on a terminal, and plain,
self-contained lines anywhere else (a CI log, a pipe), with no control codes."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text

from projections.state import ACTIVE_STATUSES, RunSnapshot

BAR_WIDTH = 30
RATE_WINDOW_S = 10.0  # the rate is measured over this much recent time
PLAIN_EVERY_S = 5.0  # a plain line per run at most this often while only progress moves
STATUS_STYLES = {"pending": "dim", "running": "cyan", "completed": "green",
                 "failed": "red", "canceled": "yellow"}


def done(snapshot: RunSnapshot) -> int:
    """Items finished either way: judged or faulted."""
    return snapshot.progress.completed + snapshot.progress.faulted


class Rates:
    """Items per second of each run over the last ``RATE_WINDOW_S``, and the time left."""

    def __init__(self) -> None:
        self._samples: dict[str, deque[tuple[float, int]]] = {}

    def observe(self, snapshot: RunSnapshot, now: float) -> None:
        samples = self._samples.setdefault(snapshot.run.id, deque())
        if not samples or samples[-1][1] != done(snapshot):
            samples.append((now, done(snapshot)))
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW_S:
            samples.popleft()

    def rate(self, run_id: str, now: float) -> float | None:
        samples = self._samples.get(run_id)
        if not samples or len(samples) < 2:
            return None
        (t0, n0), (_, n1) = samples[0], samples[-1]
        return (n1 - n0) / (now - t0) if now > t0 else None

    def eta_s(self, snapshot: RunSnapshot, now: float) -> float | None:
        rate = self.rate(snapshot.run.id, now)
        if not rate or snapshot.run.status not in ACTIVE_STATUSES:
            return None
        return (snapshot.progress.total - done(snapshot)) / rate


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}/s"


def _current(snapshot: RunSnapshot, width: int) -> str:
    item = snapshot.current_item
    if item is None or snapshot.run.status not in ACTIVE_STATUSES:
        return ""
    text = " ".join((item.prompt_text or "").split())
    text = f"#{item.sequence} {text}"
    return text if len(text) <= width else text[: width - 1] + "…"


def bar(snapshot: RunSnapshot, width: int = BAR_WIDTH) -> Text:
    """Correct, incorrect, faulted and answered-awaiting segments, then what is left."""
    progress = snapshot.progress
    text = Text()
    if progress.total:
        used = 0
        for count, style in ((progress.correct, "green"), (progress.incorrect, "red"),
                             (progress.faulted, "yellow"), (progress.awaiting, "blue")):
            cells = min(width - used, round(width * count / progress.total))
            text.append("█" * cells, style=style)
            used += cells
        text.append("·" * (width - used), style="dim")
    else:
        text.append("·" * width, style="dim")
    return text


def table(snapshots: list[RunSnapshot], rates: Rates, now: float) -> Table:
    grid = Table(box=None, pad_edge=False, expand=False)
    for header, justify in (("run", "left"), ("status", "left"), ("progress", "left"),
                            ("done", "right"), ("✓", "right"), ("✗", "right"),
                            ("!", "right"), ("rate", "right"), ("eta", "right"),
                            ("model · dataset", "left"), ("current item", "left")):
        grid.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for snapshot in snapshots:
        run, progress = snapshot.run, snapshot.progress
        grid.add_row(run.id, Text(run.status, style=STATUS_STYLES.get(run.status, "")),
                     bar(snapshot), f"{done(snapshot)}/{progress.total}",
                     str(progress.correct), str(progress.incorrect), str(progress.faulted),
                     _rate(rates.rate(run.id, now)), _duration(rates.eta_s(snapshot, now)),
                     f"{run.model_name} · {run.dataset_name}", _current(snapshot, 40))
    if not snapshots:
        grid.add_row("no runs yet", *[""] * 10)
    return grid


def plain_line(snapshot: RunSnapshot, rates: Rates, now: float) -> str:
    run, progress = snapshot.run, snapshot.progress
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    accuracy = (f"{progress.correct / progress.completed:.0%}" if progress.completed
                else "—")
    line = (f"{stamp} {run.id} {run.status} {done(snapshot)}/{progress.total} "
            f"correct={progress.correct} incorrect={progress.incorrect} "
            f"faulted={progress.faulted} accuracy={accuracy}")
    if run.status in ACTIVE_STATUSES:
        line += (f" rate={_rate(rates.rate(run.id, now))}"
                 f" eta={_duration(rates.eta_s(snapshot, now))}")
    if run.error:
        line += f" error={run.error!r}"
    return line + f" ({run.model_name} on {run.dataset_name})"


class PlainReporter:
    """Which plain lines to print: a run's line when its status changes, and while it
    runs, at most every ``PLAIN_EVERY_S`` when its count moved (and when it is done)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, int, float]] = {}

    def lines(self, snapshots: list[RunSnapshot], rates: Rates, now: float) -> list[str]:
        out = []
        for snapshot in snapshots:
            key = snapshot.run.id
            status, count = snapshot.run.status, done(snapshot)
            last = self._last.get(key)
            due = (last is None or last[0] != status
                   or (last[1] != count and (now - last[2] >= PLAIN_EVERY_S
                                             or count == snapshot.progress.total)))
            if due:
                self._last[key] = (status, count, now)
                out.append(plain_line(snapshot, rates, now))
        return out

