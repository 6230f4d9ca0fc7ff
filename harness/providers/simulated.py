"""A provider that needs no model: replies are drawn from a seeded random generator.

Everything about one attempt — whether it is right, which wrong letter it picks, its
latency, whether and where it faults — comes from ``random.Random`` seeded with
``(seed, run_id, sequence, attempt)``. Replaying a run gives the same replies, and a
retry (a new ``attempt``) draws afresh, so it may succeed where the first try faulted.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from events.schema import Usage
from harness.datasets import LETTERS
from harness.providers.base import Prompt, ProviderError, check_keys, config_number

OPTIONS = ("seed", "latencyMs", "accuracy", "faultRate", "chunks")


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """``seed``: any integer (default 0). ``latency_ms``: mean time to answer one item,
    spread over its chunks (default 400; 0 never sleeps). ``accuracy``: probability of
    the right answer, 0–1 (default 0.7). ``fault_rate``: probability that an attempt
    fails, 0–1 (default 0.05). ``chunks``: how many pieces a reply streams in (default 8).
    """

    seed: int = 0
    latency_ms: float = 400
    accuracy: float = 0.7
    fault_rate: float = 0.05
    chunks: int = 8

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SimulationConfig:
        check_keys(config, OPTIONS, provider="simulated")
        return cls(
            seed=int(config_number(config, "seed", default=0, minimum=-(2**63),
                                   maximum=2**63 - 1, integer=True)),
            latency_ms=config_number(config, "latencyMs", default=400, minimum=0,
                                     maximum=600_000),
            accuracy=config_number(config, "accuracy", default=0.7, minimum=0, maximum=1),
            fault_rate=config_number(config, "faultRate", default=0.05, minimum=0, maximum=1),
            chunks=int(config_number(config, "chunks", default=8, minimum=1, maximum=1000,
                                     integer=True)),
        )


class SimulatedProvider:
    name = "simulated"

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        SimulationConfig.from_config(config)

    async def stream(self, prompt: Prompt, *, model: str, config: Mapping[str, Any]
                     ) -> AsyncIterator[str | Usage]:
        settings = SimulationConfig.from_config(config)
        rng = random.Random(f"{settings.seed}:{prompt.run_id}:{prompt.sequence}:{prompt.attempt}")
        text = _reply(rng, prompt, accuracy=settings.accuracy)
        pieces = _split(text, settings.chunks)
        pause_s = settings.latency_ms / 1000 * rng.uniform(0.5, 1.5) / len(pieces)
        fault_before = rng.randrange(len(pieces)) if rng.random() < settings.fault_rate else None
        for index, piece in enumerate(pieces):
            if pause_s > 0:
                await anyio.sleep(pause_s)
            if index == fault_before:
                raise ProviderError(
                    f"simulated fault after {index} of {len(pieces)} chunks "
                    f"(seed {settings.seed}, attempt {prompt.attempt})",
                    retryable=False,
                )
            yield piece
        yield Usage(prompt_tokens=max(1, len(prompt.text) // 4),
                    completion_tokens=max(1, len(text) // 4))


def _reply(rng: random.Random, prompt: Prompt, *, accuracy: float) -> str:
    """A short reasoning-like reply that ends with "Answer: X"."""
    letters = LETTERS[: len(prompt.choices)]
    wrong = [letter for letter in letters if letter != prompt.expected]
    chosen = prompt.expected if rng.random() < accuracy or not wrong else rng.choice(wrong)
    lines = ["Let me look at the options."]
    for letter in rng.sample(wrong, min(2, len(wrong))):
        if letter != chosen:
            lines.append(f"{letter} ({_choice(prompt, letter)}) does not fit.")
    lines.append(f"{chosen} ({_choice(prompt, chosen)}) fits best.")
    return " ".join(lines) + f"\n\nAnswer: {chosen}"


def _choice(prompt: Prompt, letter: str) -> str:
    index = LETTERS.find(letter)
    return prompt.choices[index] if 0 <= index < len(prompt.choices) else letter


def _split(text: str, chunks: int) -> list[str]:
    """``text`` in ``chunks`` consecutive pieces of near-equal length (fewer if short)."""
    count = min(chunks, len(text))
    bounds = [round(index * len(text) / count) for index in range(count + 1)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]
