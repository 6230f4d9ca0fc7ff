"""Resuming from the start of a long log costs a bounded amount of memory per client:
eight SSE clients asking for everything after ``<generation>:0`` of a ~50 MB log and
reading nothing leave the server's memory flat and its health answering.

Timings are the benchmark's to report (``python -m bench resume``, bench/RESULTS.md);
this test holds the memory ceiling, with a generous margin, and that health answers.
"""

from __future__ import annotations

from pathlib import Path

from bench.resume import measure

RSS_CEILING_MB = 150  # growth allowed over the idle server
# A 25 MB log is enough: the whole-blob opening took 700 MB for eight resumes of 50 MB,
# so about 350 here, still more than twice the ceiling.
LOG_MB = 25


def test_eight_non_reading_clients_resuming_from_the_start_keep_memory_flat(
        tmp_path: Path) -> None:
    figures = measure(tmp_path / "data", clients=8, log_mb=LOG_MB, watch_s=5)
    assert figures.log_mb > LOG_MB * 0.9
    assert figures.health_answers >= 5  # each one a 200 (measure raises otherwise)
    assert figures.rss_max_mb - figures.rss_before_mb < RSS_CEILING_MB, figures
