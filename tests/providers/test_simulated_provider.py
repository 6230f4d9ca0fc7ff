"""The simulated provider: seeded, replayable, and roughly as accurate and faulty as asked."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from events.schema import Usage
from harness.errors import Invalid
from harness.judge import extract_choice
from harness.providers import ProviderError
from harness.providers.base import Prompt
from harness.providers.simulated import SimulatedProvider

pytestmark = pytest.mark.anyio

CHOICES = ["Paris", "London", "Berlin", "Rome"]


def prompt(sequence: int, *, attempt: int = 1, run_id: str = "run-1") -> Prompt:
    return Prompt(run_id=run_id, sequence=sequence, attempt=attempt,
                  text="Which city is the capital of Germany?", choices=CHOICES, expected="C")


async def outcome(item: Prompt, config: dict[str, Any]) -> tuple[list[str | Usage], str | None]:
    """What the provider streamed before it ended, and its error message if it faulted."""
    pieces: list[str | Usage] = []
    try:
        async for piece in SimulatedProvider().stream(item, model="sim", config=config):
            pieces.append(piece)
    except ProviderError as error:
        assert not error.retryable
        return pieces, error.message
    return pieces, None


async def outcomes(config: dict[str, Any], count: int = 2000, **kwargs: Any
                   ) -> list[tuple[list[str | Usage], str | None]]:
    with anyio.fail_after(30):
        return [await outcome(prompt(sequence, **kwargs), config)
                for sequence in range(1, count + 1)]


async def test_the_same_run_replays_identically() -> None:
    config = {"seed": 7, "latencyMs": 0, "faultRate": 0.3}
    assert await outcomes(config, count=200) == await outcomes(config, count=200)


async def test_another_seed_gives_other_replies() -> None:
    first = await outcomes({"seed": 1, "latencyMs": 0}, count=50)
    assert first != await outcomes({"seed": 2, "latencyMs": 0}, count=50)


async def test_a_reply_streams_in_the_asked_chunks_then_usage() -> None:
    pieces, error = await outcome(prompt(1), {"latencyMs": 0, "faultRate": 0, "chunks": 3})
    assert error is None
    assert [type(piece) for piece in pieces] == [str, str, str, Usage]
    assert "".join(pieces[:3]).splitlines()[-1].startswith("Answer: ")  # type: ignore[arg-type]


async def test_accuracy_is_roughly_honoured_as_the_judge_sees_it() -> None:
    results = await outcomes({"latencyMs": 0, "faultRate": 0, "accuracy": 0.7})
    answers = [extract_choice("".join(p for p in pieces if isinstance(p, str)), CHOICES)
               for pieces, _ in results]
    assert None not in answers
    assert 0.65 <= answers.count("C") / len(answers) <= 0.75


async def test_the_fault_rate_is_roughly_honoured_sometimes_mid_stream() -> None:
    results = await outcomes({"latencyMs": 0, "faultRate": 0.2})
    faults = [(pieces, error) for pieces, error in results if error is not None]
    assert 0.17 <= len(faults) / len(results) <= 0.23
    assert all("simulated fault" in error for _, error in faults)
    assert any(pieces for pieces, _ in faults)


async def test_a_retry_draws_afresh_so_a_faulted_item_can_succeed() -> None:
    config = {"latencyMs": 0, "faultRate": 0.5}
    first = await outcomes(config, count=100)
    retried = await outcomes(config, count=100, attempt=2)
    assert any(one[1] is not None and two[1] is None
               for one, two in zip(first, retried, strict=True))


@pytest.mark.parametrize(("config", "key"), [
    ({"accuracy": 1.5}, "accuracy"),
    ({"faultRate": "often"}, "faultRate"),
    ({"latencyMs": -1}, "latencyMs"),
    ({"chunks": 0}, "chunks"),
    ({"chunks": 2.5}, "chunks"),
    ({"seed": True}, "seed"),
    ({"latency_ms": 5}, "latency_ms"),
])
async def test_a_bad_config_is_invalid_and_names_the_key(config: dict[str, Any], key: str
                                                         ) -> None:
    with pytest.raises(Invalid) as raised:
        SimulatedProvider.validate_config(config)
    assert f"config.{key}" in raised.value.message or repr(key) in raised.value.message


async def test_a_reply_with_latency_still_streams_to_the_end() -> None:
    pieces, error = await outcome(prompt(1), {"latencyMs": 5, "faultRate": 0})
    assert error is None
    assert isinstance(pieces[-1], Usage)
