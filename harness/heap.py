"""How the server keeps the cycle collector's pauses from growing with history.

Read models are long-lived and acyclic: events and model structs are ``gc=False``, and
what they hold are tuples, strings and numbers, which the collector leaves untracked.
What is still tracked after a replay (a record per run, its log list) is frozen into
the permanent generation (``gc.freeze``), so a full collection walks only what was
made since — requests and connections — not the whole history.

Measured on a 1M-event log (3,301 runs of 50 items): 193k tracked objects and a
123–147 ms full pass with ``choices`` and recent items as lists; 24.5k and 5–13 ms with
tuples; nothing left to walk after the freeze.
"""

from __future__ import annotations

import gc

# The young generation is collected after this many net allocations of tracked objects.
# CPython's 700 means a pass every few requests under load; each pass is cheap, but a
# larger first threshold trades a few hundred KB of garbage held longer for fewer
# passes (measured with the fan-out and ingest benches; see bench/RESULTS.md).
YOUNG_THRESHOLD = 10_000
# Collections of each generation before the next older one is collected too (CPython's
# defaults). A full pass also waits until a quarter of the long-lived objects are new.
MIDDLE_THRESHOLD = 10
OLD_THRESHOLD = 10


def tune_collector() -> None:
    """Set the thresholds above for this process (the server calls it once at start)."""
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


def freeze_long_lived() -> None:
    """Move every object tracked now into the permanent generation, after a replay or a
    rebuild.

    No collection first: a full pass over a freshly started server (numpy, scipy and
    the rest imported) took up to a second here, on the way to serving. Frozen objects
    are still freed by reference counting (replaced read models are acyclic and go),
    so what a freeze can pin is only cyclic garbage of the moment — a little, once.
    """
    gc.freeze()
