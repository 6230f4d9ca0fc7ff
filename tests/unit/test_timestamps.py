"""Event times: a ``datetime`` in memory, RFC 3339 UTC with milliseconds in the log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec

from events.schema import AnyEvent, RunLog
from events.writer import encode_line, now_timestamp


def test_an_event_made_now_reads_back_equal_from_its_line() -> None:
    event = RunLog(run_id="r", level="info", message="hi", ts=now_timestamp())
    line = encode_line(event)
    assert msgspec.json.decode(line, type=AnyEvent) == event
    assert msgspec.json.decode(line)["ts"].endswith("Z")


def test_a_time_is_written_in_utc_to_the_millisecond() -> None:
    moment = datetime(2026, 3, 6, 21, 43, 11, 123_456, tzinfo=timezone(timedelta(hours=2)))
    line = encode_line(RunLog(run_id="r", level="info", message="hi", ts=moment))
    assert msgspec.json.decode(line)["ts"] == "2026-03-06T19:43:11.123Z"


def test_a_time_another_writer_gave_as_text_is_kept_as_it_is() -> None:
    line = encode_line({"type": "run_log", "ts": "2026-03-06T19:43:11+00:00"})
    assert msgspec.json.decode(line)["ts"] == "2026-03-06T19:43:11+00:00"
