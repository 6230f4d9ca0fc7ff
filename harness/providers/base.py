"""The one interface every model provider implements, and what it is given.

A provider turns a prompt into a stream: text chunks as the model produces them, then
at most one ``Usage``. The executor calls ``stream`` for many items at once, so a
provider keeps no per-item state on itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from events.schema import Usage
from harness.errors import Invalid


@dataclass(frozen=True, kw_only=True)
class Prompt:
    """One attempt at one item of a run."""

    run_id: str
    sequence: int
    attempt: int
    """1 for the first try of this item, 2 after a retry..."""
    text: str
    """``render_prompt(item)``."""
    choices: list[str]
    expected: str
    """The correct letter; only the simulated provider may look at it."""


class ProviderError(Exception):
    """The model could not answer. ``message`` is what goes into ``item_faulted.error``;
    ``retryable`` says whether trying the same item again later could succeed (an
    overloaded or unreachable server) or not (a rejected key, a bad request)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Provider(Protocol):
    name: str

    def validate_config(self, config: Mapping[str, Any]) -> None:
        """Raise ``Invalid`` naming the key if ``config`` is not usable by this provider."""

    def stream(self, prompt: Prompt, *, model: str, config: Mapping[str, Any]
               ) -> AsyncIterator[str | Usage]:
        """Yields text chunks as the model produces them, and at most one
        ``events.schema.Usage`` last. Raises ``ProviderError``."""


def check_keys(config: Mapping[str, Any], allowed: tuple[str, ...], *, provider: str) -> None:
    """Refuse keys a provider does not know: a misspelt option would silently do nothing."""
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise Invalid(
            f"config key {unknown[0]!r} is not an option of the {provider} provider "
            f"(options: {', '.join(allowed)})",
            details={"field": f"config.{unknown[0]}"},
        )


def config_number(config: Mapping[str, Any], key: str, *, default: float,
                  minimum: float, maximum: float, integer: bool = False) -> float:
    """``config[key]`` (or ``default``) checked to be a number within ``[minimum, maximum]``
    (and whole when ``integer``); ``Invalid`` naming the key otherwise."""
    value = config.get(key, default)
    kind = "an integer" if integer else "a number"
    # bool is an int in Python, but `true` is not a number to a user writing JSON.
    wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
    if wrong_type or (integer and not float(value).is_integer()):
        raise Invalid(f"config.{key} must be {kind}, got {value!r}",
                      details={"field": f"config.{key}"})
    if not minimum <= value <= maximum:
        raise Invalid(f"config.{key} must be between {minimum:g} and {maximum:g}, got {value!r}",
                      details={"field": f"config.{key}"})
    return int(value) if integer else float(value)
