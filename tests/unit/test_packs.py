"""Signed Browser Harness packs and the run an import of captures becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from events import schema as ev
from events.log import batch_of_lines
from events.writer import encode_line
from harness.packs import (
    Capture,
    InvalidCaptures,
    InvalidSignature,
    Pack,
    PackExpired,
    PackItem,
    canonical_bytes,
    check_captures,
    import_events,
    import_run_id,
    new_pack,
    verify,
)
from projections.readmodels import ReadModels
from tests.support.events import at, fold

KEY = b"k" * 32
NOW = datetime(2026, 3, 6, 19, 43, 11, 123000, tzinfo=UTC)


@dataclass
class Verdict:
    correct: bool
    expected: str | None
    answer: str | None
    judge: str | None = "choice"


def pack(**overrides: object) -> Pack:
    items = [PackItem(sequence=n, prompt_text=f"Question {n}?\nA) x\nB) y",
                      choices=["x", "y"]) for n in (1, 2, 3)]
    return new_pack(dataset_name="sample", model_name="gpt-web", provider_name="browser",
                    items=items, key=KEY, now=NOW, **overrides)  # type: ignore[arg-type]


def test_a_new_pack_verifies_and_carries_no_answer_key() -> None:
    signed = pack()
    verify(signed, KEY, now=NOW)
    wire = msgspec.json.encode(signed)
    assert b"answer" not in wire.lower()
    assert signed.created_at == "2026-03-06T19:43:11.123Z"
    assert signed.expires_at == "2026-03-07T19:43:11.123Z"


def test_a_pack_survives_the_round_trip_through_json() -> None:
    signed = pack()
    returned = msgspec.json.decode(msgspec.json.encode(signed), type=Pack)
    verify(returned, KEY, now=NOW)


def test_one_changed_byte_breaks_the_signature() -> None:
    wire = msgspec.json.encode(pack())
    tampered = msgspec.json.decode(wire.replace(b"Question 2", b"Question 3"), type=Pack)
    with pytest.raises(InvalidSignature):
        verify(tampered, KEY, now=NOW)


def test_a_pack_signed_with_another_key_is_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify(pack(), b"other", now=NOW)


def test_a_pack_is_rejected_once_it_has_expired() -> None:
    signed = pack(ttl=timedelta(minutes=5))
    verify(signed, KEY, now=NOW + timedelta(minutes=4))
    with pytest.raises(PackExpired):
        verify(signed, KEY, now=NOW + timedelta(minutes=5))


def test_a_later_expiry_written_into_the_pack_does_not_extend_it() -> None:
    signed = msgspec.structs.replace(pack(), expires_at="2099-01-01T00:00:00.000Z")
    with pytest.raises(InvalidSignature):
        verify(signed, KEY, now=NOW + timedelta(days=2))


def test_the_canonical_form_ignores_the_signature_and_key_order() -> None:
    signed = pack()
    assert canonical_bytes(signed) == canonical_bytes(msgspec.structs.replace(signed, signature=""))
    assert canonical_bytes(signed).startswith(b'{"createdAt":')


@pytest.mark.parametrize(("captures", "sequence"), [
    ([Capture(sequence=4, response_text="A")], 4),
    ([Capture(sequence=1, response_text="A"), Capture(sequence=1, response_text="B")], 1),
    ([Capture(sequence=2, response_text="  \n")], 2),
])
def test_a_bad_capture_is_rejected_by_its_sequence(captures: list[Capture], sequence: int) -> None:
    with pytest.raises(InvalidCaptures) as raised:
        check_captures(pack(), captures)
    assert raised.value.details == {"sequence": sequence}
    assert str(sequence) in raised.value.message


def test_an_import_without_captures_is_rejected() -> None:
    with pytest.raises(InvalidCaptures):
        check_captures(pack(), [])


def test_the_same_captures_in_another_order_name_the_same_run() -> None:
    one, two = Capture(sequence=1, response_text="A"), Capture(sequence=2, response_text="B")
    signed = pack()
    assert import_run_id(signed, [one, two]) == import_run_id(signed, [two, one])
    assert import_run_id(signed, [one]) != import_run_id(signed, [one, two])


def fold_import(events: list[ev.Event]) -> ReadModels:
    models = fold(*events)
    assert models.problems.total == 0
    return models


def test_an_import_becomes_a_finished_judged_run_with_uncaptured_items_faulted() -> None:
    signed = pack()
    captures = [Capture(sequence=1, response_text="The answer is A",
                        captured_at=at("2026-03-06T19:50:00.000Z")),
                Capture(sequence=3, response_text="B")]
    verdicts = {1: Verdict(True, "A", "A"), 3: Verdict(False, "A", "B")}
    run_id = import_run_id(signed, captures)
    events = import_events(signed, captures, verdicts, run_id=run_id, now=NOW)

    record = fold_import(events).runs.runs[run_id]
    snapshot = record.snapshot()
    assert snapshot.run.status == "completed"
    assert record.config == {"source": "browser-harness", "packId": signed.pack_id}
    assert (snapshot.progress.correct, snapshot.progress.incorrect,
            snapshot.progress.faulted, snapshot.progress.total) == (1, 1, 1, 3)
    assert record.items[1].response_text == "The answer is A"
    assert record.items[1].finished_at == at("2026-03-06T19:50:00.000Z")
    assert record.items[2].error == "not captured"
    assert record.items[3].expected == "A"


def test_a_second_copy_of_an_import_in_the_log_folds_to_nothing() -> None:
    signed = pack()
    captures = [Capture(sequence=2, response_text="B")]
    run_id = import_run_id(signed, captures)
    events = import_events(signed, captures, {2: Verdict(True, "B", "B")}, run_id=run_id,
                           now=NOW)
    once = b"".join(encode_line(event) for event in events)
    models = ReadModels()
    models.apply_batch(batch_of_lines(once + once, start=0, generation="1"))
    record = models.runs.runs[run_id]
    assert record.items[2].attempts == 1
    assert record.progress().correct == 1
    assert models.duplicates_ignored == len(events)
    assert models.problems.total == 0
