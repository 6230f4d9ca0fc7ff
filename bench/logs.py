"""Large generated logs, made once and kept under ``bench/out/`` (git-ignored).

A 10M-event log is 1.7 GB and takes half a minute to write, so every bench that needs
one shares the cached file; a data directory gets a hard link to it (or a copy where
the bench appends to it), never the cache itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.common import ROOT, generate_log

OUT = ROOT / "bench" / "out"
ITEMS_PER_RUN = 50


def cached_log(events: int) -> Path:
    """A log of about ``events`` events of whole runs (streamed, judged items)."""
    path = OUT / f"log-{events}.jsonl"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    generate_log(partial, events=events, items_per_run=ITEMS_PER_RUN)
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
