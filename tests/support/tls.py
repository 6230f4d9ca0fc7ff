"""One TLS context shared by every httpx client the tests make.

httpx builds a new ``ssl.SSLContext`` for each client, loading certifi's whole CA
bundle into it: about 45 ms of CPU per client, for clients that only ever speak plain
HTTP to loopback. A bare ``httpx.get`` is a client per call, and the tests poll health
with thousands of them (each ``settle``, each ``wait_until`` on a server), so this was
minutes of the suite's CPU. An ``SSLContext`` may serve any number of connections, so
clients built with httpx's defaults (``verify=True``, no ``cert``) share one here;
any other choice still gets a context of its own, built as httpx builds it.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx._transports.default as transports

BUILDER = "create_ssl_context"  # the name httpx's transports call it by (httpx 0.28)


def share_the_default_tls_context() -> None:
    """Make httpx's transports (in this process) take one default context, built once."""
    build = getattr(transports, BUILDER)
    if getattr(build, "shared", False):  # already done in this process
        return
    default = build()

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True
                           ) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            return default
        return build(verify=verify, cert=cert, trust_env=trust_env)

    create_ssl_context.shared = True  # type: ignore[attr-defined]
    setattr(transports, BUILDER, create_ssl_context)
