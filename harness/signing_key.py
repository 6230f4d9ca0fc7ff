"""The key that signs Browser Harness packs.

``HARNESS_SECRET`` wins when set. Otherwise a random key is generated once into
``data_dir/secret`` with mode 0600 and reused on every later start, so that packs
handed out before a restart still verify after it. Replicas on one JetStream log keep
that key in the stream's key-value store instead, so that a pack made by one verifies
on every other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from harness.settings import Settings

if TYPE_CHECKING:  # the nats extra is needed only with a JetStream log
    from events.jetstream import JetStreamLog

KEY_FILE = "secret"
SHARED_KEY = "browser-harness-secret"
_PRIVATE = 0o600


class UnreadableKey(RuntimeError):
    """The key file exists but holds no key; refusing to sign with an empty key."""


def load_signing_key(settings: Settings) -> bytes:
    if settings.secret:
        return settings.secret.encode()
    return key_file(settings.data_dir / KEY_FILE)


def key_file(path: Path) -> bytes:
    """The key stored at ``path``, created there first if there is none.

    The key is written to a private temporary file and published with ``link``, which
    fails if ``path`` exists: two servers starting at once agree on one key, and no
    reader ever sees a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if stat.S_IMODE(path.stat().st_mode) != _PRIVATE:
        path.chmod(_PRIVATE)
    key = path.read_bytes().strip()
    if not key:
        raise UnreadableKey(f"{path} is empty; delete it to generate a new signing key")
    return key


async def shared_signing_key(settings: Settings, log: JetStreamLog) -> bytes:
    """The key every replica on ``log`` signs with: ``HARNESS_SECRET`` when set, else one
    generated once into the stream's ``STREAM-config`` key-value bucket (created if
    absent, so replicas starting at once agree on the first one written)."""
    if settings.secret:
        return settings.secret.encode()
    from nats.js.errors import KeyWrongLastSequenceError

    kv = await log.key_value("config")
    with contextlib.suppress(KeyWrongLastSequenceError):  # another replica stored it first
        await log.call(kv.create(SHARED_KEY, secrets.token_hex(32).encode()),
                       "store the Browser Harness key")
    entry = await log.call(kv.get(SHARED_KEY), "read the Browser Harness key")
    if not entry.value:
        raise UnreadableKey(f"the {SHARED_KEY} key of {log.name} is empty")
    return entry.value
