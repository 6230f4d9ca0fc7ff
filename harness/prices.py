"""Model prices, from ``HARNESS_DATA_DIR/prices.json``, read once at start-up::

    {"currency": "USD",
     "models": {"openai/gpt-4.1": {"inputPerMillion": 2.0, "outputPerMillion": 8.0},
                "simulated/sim-1": {"inputPerMillion": 0.1, "outputPerMillion": 0.4}}}

Keys are ``provider/model`` in any letter case (the model part may hold more slashes);
prices are per million prompt (input) and completion (output) tokens. A missing file
means no prices: no run shows a cost. A file that cannot be read as that shape prices
nothing either, and the reason is shown wherever a cost would be, so a typo is seen
instead of silently hiding costs; it never stops the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from projections.cost import ModelPrice

PRICES_FILE = "prices.json"

ModelKey = Annotated[str, Meta(pattern=r"^[^/]+/.+$", description="provider/model")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class PriceFile(msgspec.Struct, forbid_unknown_fields=True):
    models: dict[ModelKey, ModelPrice]
    currency: Currency = "USD"


class PriceBook(msgspec.Struct, frozen=True):
    """The prices that could be read, or ``problem``: why none could."""

    prices: dict[str, ModelPrice]  # keyed by lower-case "provider/model"
    currency: str = "USD"
    problem: str | None = None

    def price_of(self, provider: str, model: str) -> ModelPrice | None:
        return self.prices.get(f"{provider}/{model}".lower())


NO_PRICES = PriceBook({})


def load_prices(path: Path) -> PriceBook:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return NO_PRICES
    except OSError as error:
        return PriceBook({}, problem=f"cannot read {path.name}: {error.strerror}")
    try:
        document = msgspec.json.decode(raw, type=PriceFile)
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as error:
        return PriceBook({}, problem=f"{path.name} is not a valid price list: {error}")
    prices: dict[str, ModelPrice] = {}
    for key, price in document.models.items():
        if key.lower() in prices:
            return PriceBook({}, problem=f"{path.name} prices {key!r} twice (keys ignore case)")
        prices[key.lower()] = price
    return PriceBook(prices, document.currency)
