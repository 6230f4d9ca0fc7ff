"""Text deltas on their own: for random streams of text (emoji and all), sent at random
points, a client folding ``run_item_delta`` holds what a client folding whole
``run_item`` messages holds, whenever it joined and however new its opening was."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from events import schema as ev
from projections.messages import RunItemMessage, StreamMessage, run_item
from projections.runs import RunStore
from projections.state import PREVIEW_CHARS, Item
from projections.text_deltas import RunItemDeltaMessage, TextBases, apply_text_delta

RUN = "r"
decode_item = msgspec.json.Decoder(RunItemMessage).decode
decode_delta = msgspec.json.Decoder(RunItemDeltaMessage).decode

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
# A step: stream some text, start the item again (a new attempt), or send the item.
steps = st.lists(st.one_of(texts.map(lambda text: ("delta", text)),
                           st.just(("restart", "")), st.just(("send", ""))),
                 min_size=1, max_size=60)


def streamed(history: list[tuple[str, str]]) -> list[StreamMessage]:
    """The ``run_item`` messages a fan-out sends for ``history``, the last its final."""
    store = RunStore()
    store.apply(ev.RunCreated(run_id=RUN, provider_name="p", model_name="m",
                              dataset_name="d", total=1), 1, None)
    at = 1
    sent = []

    def apply(event: ev.Event) -> None:
        nonlocal at
        at += 1
        assert store.apply(event, at, None) is None

    apply(ev.ItemStarted(run_id=RUN, sequence=1, prompt_text="Q?" * 50, choices=("A", "B")))
    sent.append(run_item(store.runs[RUN], 1))
    for kind, text in history:
        if kind == "delta":
            apply(ev.ItemDelta(run_id=RUN, sequence=1, text=text))
        elif kind == "restart":
            apply(ev.ItemStarted(run_id=RUN, sequence=1, prompt_text="again?"))
        else:
            sent.append(run_item(store.runs[RUN], 1))
    apply(ev.ItemAnswered(run_id=RUN, sequence=1, response_text="A", answer="A"))
    sent.append(run_item(store.runs[RUN], 1))
    return sent


def fold(item: Item | None, message: StreamMessage) -> Item | None:
    if message.event == "run_item":
        return decode_item(message.data).item
    assert message.event == "run_item_delta"
    if item is None:
        return None
    return apply_text_delta(item, decode_delta(message.data)) or item


@settings(max_examples=300, deadline=None)
@given(history=steps, data=st.data())
def test_a_client_folding_deltas_ends_where_a_client_folding_whole_items_ends(
        history: list[tuple[str, str]], data: st.DataObject) -> None:
    sent = streamed(history)
    compacted = TextBases().compact(sent)
    assert compacted[-1] == sent[-1]  # the final state is always whole
    # A client joins before message ``joined`` with an opening (absolute state) built
    # at ``opened`` or later: as new as the live messages it is sent next, or newer.
    joined = data.draw(st.integers(0, len(sent) - 1))
    opened = data.draw(st.integers(joined, len(sent) - 1))
    item = decode_item(sent[opened].data).item if joined else None
    for index in range(joined, len(sent)):
        item = fold(item, compacted[index])
        if index >= opened and item is not None:
            # Once past its opening, it holds exactly what the whole message says.
            assert item == decode_item(sent[index].data).item
    assert item == decode_item(sent[-1].data).item


def test_a_delta_carries_only_the_appended_text_and_the_counters() -> None:
    sent = streamed([("delta", "Hello"), ("send", ""), ("delta", ", wörld 🌍"), ("send", "")])
    compacted = TextBases().compact(sent)
    assert [m.event for m in compacted] == ["run_item", "run_item_delta", "run_item_delta",
                                            "run_item"]
    delta = decode_delta(compacted[2].data)
    assert (delta.offset, delta.text, delta.chunks, delta.attempts) == (5, ", wörld 🌍", 2, 1)
    assert len(compacted[2].data) < len(sent[2].data) / 2


def test_text_beyond_the_preview_is_the_preview_and_a_new_attempt_goes_out_whole() -> None:
    long = "x" * PREVIEW_CHARS + "yz"
    sent = streamed([("send", ""), ("delta", long), ("send", ""), ("restart", ""),
                     ("delta", "y"), ("send", "")])
    compacted = TextBases().compact(sent)
    # started, nothing new yet (a delta of ""), past the preview, another attempt, the end
    assert [m.event for m in compacted] == ["run_item", "run_item_delta", "run_item_delta",
                                            "run_item", "run_item"]
    delta = decode_delta(compacted[2].data)
    assert (delta.offset, delta.text) == (2, long[2:])
    # A client that never saw the start of this text can still take it: it is all of it.
    held = decode_item(sent[0].data).item
    assert apply_text_delta(held, delta) == decode_item(sent[2].data).item


def test_a_delta_applied_twice_changes_nothing() -> None:
    sent = streamed([("delta", "ab" * 200), ("send", ""), ("delta", "cd"), ("send", "")])
    compacted = TextBases().compact(sent)
    item = decode_item(sent[1].data).item
    delta = decode_delta(compacted[2].data)
    once = apply_text_delta(item, delta)
    assert once is not None and apply_text_delta(once, delta) == once
    assert once == decode_item(sent[2].data).item
