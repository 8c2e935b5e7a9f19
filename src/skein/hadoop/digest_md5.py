"""The client side of SASL DIGEST-MD5 (RFC 2831), as Hadoop uses it for tokens.

Hadoop's TOKEN authentication is DIGEST-MD5 with the token's identifier,
base64-encoded, as the user name and its password, base64-encoded, as the
password; the digest URI is ``<protocol>/<serverId>`` from the server's
offer (``/default`` for tokens). Only the ``auth`` quality of protection is
implemented; ``auth-int`` and ``auth-conf`` would add :meth:`wrap`/:meth:`unwrap`
on the same session keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable

from skein.errors import AuthenticationError

__all__ = ["DigestMD5Client", "parse_challenge"]

_PAIR = re.compile(r'\s*([a-zA-Z0-9-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)')


def parse_challenge(challenge: bytes) -> dict[str, str]:
    """Parse a DIGEST-MD5 challenge (``key=value`` pairs, values maybe quoted).

    Raises:
        AuthenticationError: the challenge is not well formed.
    """
    text = challenge.decode("utf-8", errors="replace")
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PAIR.match(text, position)
        if match is None or match.end() == position:
            raise AuthenticationError(f"malformed DIGEST-MD5 challenge: {text!r}")
        key, value = match.group(1).lower(), match.group(2)
        quoted = value.startswith('"')
        value = re.sub(r"\\(.)", r"\1", value[1:-1]) if quoted else value.strip()
        fields[key] = value
        position = match.end()
    return fields


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _hex_md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestMD5Client:
    """One DIGEST-MD5 authentication, driven by the server's challenges.

    Args:
        username: the authentication id (for Hadoop tokens: base64 of the identifier).
        password: the password (for Hadoop tokens: base64 of the token's password).
        digest_uri: ``protocol/serverId``.
        cnonce: a source of client nonces (random by default; fixed in tests).

    Example (RFC 2831, section 4):
        >>> client = DigestMD5Client("chris", "secret", "imap/elwood.innosoft.com",
        ...                          cnonce=lambda: "OA6MHXh6VqTrRk")
        >>> reply = client.respond(b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",'
        ...                        b'qop="auth",algorithm=md5-sess,charset=utf-8')
        >>> b"response=d388dad90d4bbd760a152321f2143af7" in reply
        True
        >>> client.verify(b"rspauth=ea40f60335c427b5527b84dbabcdfffd")
    """

    def __init__(
        self,
        username: str,
        password: str,
        digest_uri: str,
        *,
        cnonce: Callable[[], str] | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.digest_uri = digest_uri
        self._cnonce = cnonce or (lambda: base64.b64encode(os.urandom(24)).decode())
        self._expected_rspauth: str | None = None
        self.qop = "auth"

    @classmethod
    def for_token(
        cls, identifier: bytes, password: bytes, protocol: str, server_id: str
    ) -> DigestMD5Client:
        """The client for a Hadoop token offered by a server as ``protocol``/``server_id``."""
        return cls(
            base64.b64encode(identifier).decode(),
            base64.b64encode(password).decode(),
            f"{protocol}/{server_id}",
        )

    def respond(self, challenge: bytes) -> bytes:
        """The response to the server's first challenge.

        Raises:
            AuthenticationError: the challenge lacks a nonce, or the server
                requires a protection this client does not implement.
        """
        fields = parse_challenge(challenge)
        nonce = fields.get("nonce")
        if not nonce:
            raise AuthenticationError("DIGEST-MD5 challenge without a nonce")
        offered = [q.strip() for q in fields.get("qop", "auth").split(",")]
        if "auth" not in offered:
            raise AuthenticationError(
                f"the server requires SASL protection {', '.join(offered)}; skein supports only "
                "'auth' so far (hadoop.rpc.protection=authentication)"
            )
        realm = fields.get("realm", "")
        cnonce = self._cnonce()
        nc = "00000001"
        user_hash = _md5(f"{self.username}:{realm}:{self.password}".encode())
        a1 = user_hash + f":{nonce}:{cnonce}".encode()
        ha1 = _hex_md5(a1)

        def digest(a2: str) -> str:
            ha2 = _hex_md5(a2.encode())
            return _hex_md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{self.qop}:{ha2}".encode())

        response = digest(f"AUTHENTICATE:{self.digest_uri}")
        self._expected_rspauth = digest(f":{self.digest_uri}")
        parts = [
            "charset=utf-8",
            f"username={_quote(self.username)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"nc={nc}",
            f"cnonce={_quote(cnonce)}",
            f"digest-uri={_quote(self.digest_uri)}",
            "maxbuf=65536",
            f"response={response}",
            f"qop={self.qop}",
        ]
        return ",".join(parts).encode()

    def verify(self, final: bytes) -> None:
        """Check the server's ``rspauth``: proof that it knows the password too.

        Raises:
            AuthenticationError: missing or wrong.
        """
        if self._expected_rspauth is None:
            raise AuthenticationError("DIGEST-MD5 finished before the client responded")
        rspauth = parse_challenge(final).get("rspauth", "")
        if not hmac.compare_digest(rspauth, self._expected_rspauth):
            raise AuthenticationError("the server's DIGEST-MD5 rspauth does not match")
