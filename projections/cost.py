"""What a run's tokens cost at a model's price (pure: the price comes from outside)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

PerMillion = Annotated[float, Meta(ge=0, le=1_000_000,
                                   description="price of one million tokens")]


class ModelPrice(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=True):
    """A model's price per million prompt (input) and completion (output) tokens."""

    input_per_million: PerMillion
    output_per_million: PerMillion


class Cost(msgspec.Struct, rename="camel", gc=False):
    """The run's cost so far: ``input`` + ``output`` = ``total``, in ``currency``, at
    ``price``; only items that reported their token usage count."""

    currency: str
    input: float
    output: float
    total: float
    price: ModelPrice


def cost_of(prompt_tokens: int, completion_tokens: int, price: ModelPrice, *,
            currency: str) -> Cost | None:
    """``None`` when no item reported its usage: no tokens known is no cost known, not 0."""
    if not prompt_tokens and not completion_tokens:
        return None
    spent_in = prompt_tokens * price.input_per_million / 1_000_000
    spent_out = completion_tokens * price.output_per_million / 1_000_000
    return Cost(currency, spent_in, spent_out, spent_in + spent_out, price)
