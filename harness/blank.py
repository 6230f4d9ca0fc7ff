"""What counts as blank text, said once for the server and for its JSON Schema.

A schema's ``pattern`` is read by ECMA-262 rules, the server's checks by Python's: their
``\\s`` differ (Python's takes U+001C–U+001F and U+0085, ECMA's takes U+FEFF), so a
bare ``\\S`` lets schema-valid text be refused. The class below spells out the union of
both, so the two agree on every character.
"""

from __future__ import annotations

import re

WHITE_SPACE = r"\s\x1c-\x1f\x85\ufeff"  # to use inside a character class
NOT_BLANK = rf"[^{WHITE_SPACE}]"
_NOT_BLANK = re.compile(NOT_BLANK)


def is_blank(text: str) -> bool:
    """Whether ``text`` has nothing but white space, by both rule sets."""
    return _NOT_BLANK.search(text) is None
