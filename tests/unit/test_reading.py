"""Tolerant reading (SPEC §3): every line is an event or a counted problem, never a crash."""

from __future__ import annotations

from events.decoding import Problem, Record, decode_records
from events.log import batch_of_lines
from projections.readmodels import ReadModels
from tests.support.events import TS_TEXT, line_of, run_history


def feed(models: ReadModels, *lines: bytes) -> None:
    """Fold ``lines`` as the next records of the log."""
    data = b"".join(line + b"\n" for line in lines)
    models.apply_batch(batch_of_lines(data, start=models.position.offset, generation="g"))


def kinds(models: ReadModels) -> dict[str, int]:
    return dict(models.problems.counts)


def test_each_kind_of_bad_line_is_skipped_counted_and_the_next_line_is_read() -> None:
    models = ReadModels()
    feed(
        models,
        b"not json at all",
        b"[1, 2, 3]",
        b'{"type": "run_exploded", "runId": "r"}',
        b'{"type": "run_started"}',
        b'{"runId": "r"}',
        b'{"type":"run_created","runId":"r","providerName":"p","modelName":"m",'
        b'"datasetName":"d","total":2}',
    )
    assert kinds(models) == {"invalid_json": 1, "not_an_object": 1, "unknown_type": 2,
                             "invalid_event": 1}
    assert "r" in models.runs.runs
    assert models.events_applied == 1


def test_problems_report_the_position_of_their_record() -> None:
    models = ReadModels()
    feed(models, b"{}", b"oops")
    positions = [p.position for p in models.problems.recent]
    assert positions == ["g:3", "g:8"]  # just after each: read_at gives it back


def test_events_for_an_unknown_run_are_problems_and_touch_no_other_run() -> None:
    models = ReadModels()
    feed(models, *(line_of(e) for e in run_history("a", finish=None)))
    before = models.runs.runs["a"].progress()
    feed(
        models,
        b'{"type":"item_judged","runId":"ghost","sequence":1,"correct":true}')
    assert kinds(models) == {"unknown_run": 1}
    assert models.runs.runs["a"].progress() == before
    assert "ghost" not in models.runs.runs


def test_an_item_outside_one_to_total_is_a_problem() -> None:
    models = ReadModels()
    feed(models, *(line_of(e) for e in run_history("a", total=3)))
    feed(
        models,
        b'{"type":"item_started","runId":"a","sequence":4,"promptText":"?"}',
        b'{"type":"item_started","runId":"a","sequence":0,"promptText":"?"}')
    assert kinds(models) == {"sequence_out_of_range": 1, "invalid_event": 1}
    assert models.runs.runs["a"].progress().total == 3


def test_a_second_line_with_a_seen_event_id_is_ignored() -> None:
    line = (b'{"type":"run_log","runId":"a","eventId":"e-1","level":"info","message":"once",'
            b'"ts":"' + TS_TEXT.encode() + b'"}')
    models = ReadModels()
    feed(models, *(line_of(e) for e in run_history("a")))
    logs_before = len(models.runs.runs["a"].logs)
    feed(models, line, line)
    assert len(models.runs.runs["a"].logs) == logs_before + 1
    assert models.duplicates_ignored == 1


def test_blank_lines_are_neither_events_nor_problems() -> None:
    decoded = list(decode_records(batch_of_lines(b"\n  \n", start=0, generation="g")))
    assert decoded == []


def test_decoding_gives_each_record_its_end() -> None:
    data = b'{"type":"run_started","runId":"a"}\nbad\n'
    first, second = decode_records(batch_of_lines(data, start=10, generation="g"))
    assert isinstance(first, Record) and first.end == 45
    assert isinstance(second, Problem) and second.offset == 49



def test_a_run_of_absurd_size_is_a_problem_not_a_run() -> None:
    models = ReadModels()
    feed(
        models,
        b'{"type":"run_created","runId":"big","providerName":"p","modelName":"m",'
        b'"datasetName":"d","total":1000000000000}')
    assert kinds(models) == {"invalid_event": 1}
    assert "big" not in models.runs.runs
