"""Where a JetStream log lives: ``nats://[user:password@]host[:port][,host:port…]/STREAM``.

One text names the servers, the stream and how to authenticate, so that ``HARNESS_LOG``,
``--log``, ``ship --to`` and ``replay`` all take the same thing. Credentials and TLS are
passed to nats-py as it takes them:

- ``nats://user:password@host/STREAM`` or ``nats://token@host/STREAM`` — in the address;
- ``?creds=/path/user.creds`` — a NATS credentials file (JWT + NKey seed);
- ``?nkey=/path/user.nk`` — an NKey seed file;
- ``tls://host/STREAM`` — TLS with the system's CA store; ``?ca=FILE`` a private CA,
  ``?cert=FILE&key=FILE`` a client certificate;
- ``?replicas=3`` — copies of the stream kept by a cluster, used when this process is
  the one that creates the stream (an existing stream is used as it is);
- ``?timeout=5`` — seconds to wait for NATS: for the first connection, and for each
  JetStream API request (stream info, a read, a bucket) before it fails;
- ``?ack_timeout=10`` — seconds a publish waits for the stream's acks before it sends
  the unacknowledged messages once more (messages a dropped connection lost are sent
  again only then).
"""

from __future__ import annotations

import math
import re
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

DEFAULT_PORT = 4222
DEFAULT_STREAM = "HARNESS"
SCHEMES = ("nats", "tls")
# JetStream refuses names with whitespace, '.', '*', '>' or path separators.
_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$")
_OPTIONS = frozenset({"creds", "nkey", "ca", "cert", "key", "replicas", "timeout",
                      "ack_timeout"})
TIMEOUT_S = 5.0       # ``?timeout=``
ACK_TIMEOUT_S = 10.0  # ``?ack_timeout=``


class BadAddress(ValueError):
    """A log address that names no JetStream stream; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class NatsAddress:
    """A parsed ``nats://`` (or ``tls://``) log address."""

    scheme: str
    hosts: tuple[str, ...]           # host:port each
    stream: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    options: tuple[tuple[str, str], ...] = ()

    @property
    def replicas(self) -> int:
        return int(dict(self.options).get("replicas", "1"))

    @property
    def timeout_s(self) -> float:
        return float(dict(self.options).get("timeout", TIMEOUT_S))

    @property
    def ack_timeout_s(self) -> float:
        return float(dict(self.options).get("ack_timeout", ACK_TIMEOUT_S))

    @property
    def subject_prefix(self) -> str:
        """Every subject of this log's stream starts with it (``harness.STREAM``)."""
        return f"harness.{self.stream}"

    def __str__(self) -> str:
        """The address for people and logs: no password or token in it."""
        who = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{who}{','.join(self.hosts)}/{self.stream}"

    @classmethod
    def parse(cls, text: str) -> NatsAddress:
        scheme, sep, rest = text.partition("://")
        if not sep or scheme not in SCHEMES:
            raise BadAddress(f"unknown log {text!r}: expected 'file' or "
                             "nats://host:port/STREAM (or tls://…)")
        rest, _, query = rest.partition("?")
        netloc, _, path = rest.partition("/")
        stream = unquote(path.strip("/")) or DEFAULT_STREAM
        if not _STREAM_NAME.match(stream):
            raise BadAddress(f"bad stream name {stream!r} in {scheme}://…/{path}: use letters, "
                             "digits, '-' and '_'")
        credentials, at, hostlist = netloc.rpartition("@")
        if not at:
            hostlist = netloc
        hosts = tuple(_host_port(part) for part in hostlist.split(",") if part)
        if not hosts:
            raise BadAddress(f"no server in log address {scheme}://{netloc}/{stream}")
        user = password = token = None
        if credentials:
            name, colon, secret = credentials.partition(":")
            if colon:
                user, password = unquote(name), unquote(secret)
            else:
                token = unquote(name)
        options = tuple(parse_qsl(query, keep_blank_values=True))
        unknown = sorted({name for name, _ in options} - _OPTIONS)
        if unknown:
            raise BadAddress(f"unknown option {unknown[0]!r} in log address; known: "
                             + ", ".join(sorted(_OPTIONS)))
        replicas = dict(options).get("replicas", "1")
        if not replicas.isdigit() or not 1 <= int(replicas) <= 5:
            raise BadAddress(f"replicas must be 1 to 5, got {replicas!r}")
        for name in ("timeout", "ack_timeout"):
            if name in dict(options):
                _seconds(name, dict(options)[name])
        return cls(scheme, hosts, stream, user, password, token, options)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (servers, credentials, TLS)."""
        scheme = "tls" if self.scheme == "tls" else "nats"
        options: dict[str, Any] = {"servers": [f"{scheme}://{host}" for host in self.hosts]}
        if self.user is not None:
            options["user"], options["password"] = self.user, self.password
        if self.token is not None:
            options["token"] = self.token
        given = dict(self.options)
        if "creds" in given:
            options["user_credentials"] = given["creds"]
        if "nkey" in given:
            options["nkeys_seed"] = given["nkey"]
        if self.scheme == "tls" or "ca" in given or "cert" in given:
            context = ssl.create_default_context(cafile=given.get("ca"))
            if "cert" in given:
                context.load_cert_chain(given["cert"], given.get("key"))
            options["tls"] = context
        return options


def _seconds(name: str, text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise BadAddress(f"{name} must be a number of seconds more than 0, got {text!r}")
    return seconds


def _host_port(text: str) -> str:
    match = _HOST_PORT.match(text)
    if match is None:
        raise BadAddress(f"bad server {text!r} in log address: expected host or host:port")
    port = int(match.group(2) or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise BadAddress(f"bad port {port} in log address")
    return f"{match.group(1)}:{port}"
