"""Large generated logs, made once and kept under ``bench/out/`` (git-ignored).

A 10M-event log is 1.7 GB and takes half a minute to write, so every bench that needs
one shares the cached file; a data directory gets a hard link to it (or a copy where
the bench appends to it), never the cache itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.common import ROOT, TS, item_events
from events import schema as ev
from events.writer import encode_line

OUT = ROOT / "bench" / "out"
ITEMS_PER_RUN = 50


def cached_log(events: int) -> Path:
    """A log of about ``events`` events of whole runs (streamed, judged items)."""
    path = OUT / f"log-{events}.jsonl"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    written = 0
    with partial.open("wb") as out:
        run = 0
        while written < events:
            run_id = f"run-{run:07d}"
            history: list[ev.Event] = [
                ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="gpt-4.1",
                              dataset_name="arithmetic", total=ITEMS_PER_RUN, ts=TS),
                ev.RunStarted(run_id=run_id, ts=TS)]
            for sequence in range(1, ITEMS_PER_RUN + 1):
                history.extend(item_events(run_id, sequence))
            history.append(ev.RunFinished(run_id=run_id, status="completed", ts=TS))
            out.write(b"".join(encode_line(event) for event in history))
            written += len(history)
            run += 1
    partial.rename(path)
    return path


def data_dir_with(log: Path, folder: Path, *, writable: bool) -> Path:
    """``folder`` as a data directory whose ``runs.jsonl`` is ``log``: a hard link when
    nothing will be appended, a copy otherwise."""
    target = folder / "runs.jsonl"
    if writable:
        shutil.copyfile(log, target)
    else:
        os.link(log, target)
    return folder
