"""TLS contexts for mutual authentication between clients and an application master.

An application has one self-signed certificate (see :class:`skein.spec.Security`)
that is at once both sides' identity and the only trust anchor: each side
presents it and accepts a peer only if the peer presents it too. So holding the
key is what authorizes a client, and a master with other credentials is
refused. The certificate names :data:`~skein.spec.security.CERT_NAME`
(``skein-internal``), not a host, so clients check that name whatever host the
master runs on.

Both contexts offer only TLS 1.2 or newer with the cipher suites HTTP/2 allows
(RFC 7540, section 9.2) and negotiate ``h2`` by ALPN. They are cached by
credential content: building one costs a file write and a key parse, so
repeated calls with the same credentials return the same context. Treat them
as read-only.

Inside the application, YARN has localized the credentials into each
container's working directory (the master's and every service's) as
``.skein.crt`` and ``.skein.pem``; :func:`localized_security` finds them.
"""

from __future__ import annotations

import enum
import functools
import os
import shutil
import ssl
import tempfile
from typing import Final

from skein.container_properties import CERT_FILE, KEY_FILE
from skein.errors import FileNotFoundError
from skein.spec.security import CERT_NAME, Security

__all__ = [
    "ALPN_PROTOCOL",
    "SERVER_NAME",
    "client_ssl_context",
    "localized_security",
    "server_ssl_context",
]

#: The one application protocol offered (gRPC runs over HTTP/2).
ALPN_PROTOCOL: Final = "h2"

#: The name clients check the master's certificate against (``server_hostname``).
SERVER_NAME: Final = CERT_NAME

# RFC 7540, section 9.2.2: HTTP/2 over TLS 1.2 needs ephemeral key exchange and an
# AEAD cipher. TLS 1.3 suites are configured separately by OpenSSL and all qualify.
_CIPHERS: Final = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"

_CACHE_SIZE: Final = 16


class _Side(enum.Enum):
    CLIENT = ssl.PROTOCOL_TLS_CLIENT
    SERVER = ssl.PROTOCOL_TLS_SERVER


def server_ssl_context(security: Security) -> ssl.SSLContext:
    """Return the master's TLS context: it presents ``security`` and requires clients to as well.

    Args:
        security: the application's credentials.

    Returns:
        A server context (cached per credential content; do not modify it).

    Raises:
        ssl.SSLError: the certificate or key is not valid PEM, or they do not match.
        OSError: a credentials file cannot be read.

    Example:
        >>> context = server_ssl_context(Security.new_credentials())
        >>> context.verify_mode == ssl.CERT_REQUIRED
        True
    """
    return _context(_Side.SERVER, security)


def client_ssl_context(security: Security) -> ssl.SSLContext:
    """Return a client's TLS context: it presents ``security`` and accepts only a master that does.

    Connect with ``server_hostname=SERVER_NAME``: the certificate names
    ``skein-internal``, not the master's host.

    Args:
        security: the application's credentials.

    Returns:
        A client context (cached per credential content; do not modify it).

    Raises:
        ssl.SSLError: the certificate or key is not valid PEM, or they do not match.
        OSError: a credentials file cannot be read.

    Example:
        >>> security = Security.new_credentials()
        >>> client_ssl_context(security) is client_ssl_context(security)
        True
    """
    return _context(_Side.CLIENT, security)


def localized_security(directory: str | os.PathLike[str] = ".") -> Security:
    """Return the credentials YARN localized into a container: ``.skein.crt`` and ``.skein.pem``.

    Args:
        directory: the container's working directory (default: the current one,
            which is where YARN starts the master and every service).

    Raises:
        skein.errors.FileNotFoundError: either file is missing (not in a skein container?).

    Example:
        >>> security = localized_security()  # doctest: +SKIP
        >>> context = server_ssl_context(security)  # doctest: +SKIP
    """
    paths = [os.path.abspath(os.path.join(directory, name)) for name in (CERT_FILE, KEY_FILE)]
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(path, f"No localized TLS credentials file: {path}")
    return Security(cert_file=paths[0], key_file=paths[1])


def _context(side: _Side, security: Security) -> ssl.SSLContext:
    cert, key = security.cert_pem(), security.key_pem()
    # Plain local files are loaded where they are; anything else goes through a
    # private temporary copy. The content is part of the cache key either way,
    # so changed credentials never get a stale context.
    cert_path, key_path = _local_path(security.cert_file), _local_path(security.key_file)
    files = (cert_path, key_path) if cert_path and key_path else None
    return _build(side, cert, key, files)


def _local_path(value: str | None) -> str | None:
    if value is None:
        return None
    path = value.removeprefix("file://")
    return None if "://" in path else path


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _build(side: _Side, cert: bytes, key: bytes, files: tuple[str, str] | None) -> ssl.SSLContext:
    context = ssl.SSLContext(side.value)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(_CIPHERS)
    context.set_alpn_protocols([ALPN_PROTOCOL])
    # HTTP/2 forbids TLS renegotiation (RFC 7540, section 9.2.1).
    context.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    # PROTOCOL_TLS_CLIENT already requires a certificate and checks the host
    # name; the server must ask for the client's, or anyone could call it.
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=cert.decode("ascii"))
    if files is not None:
        context.load_cert_chain(*files)
    else:
        _load_chain_from_bytes(context, cert, key)
    return context


def _load_chain_from_bytes(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl loads a certificate chain only from files. The copy lives for a moment
    # in a folder only we can enter (mkdtemp makes it 0700), in files created
    # 0600, and is removed before returning, even on error.
    folder = tempfile.mkdtemp(prefix="skein-tls-")
    try:
        cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        context.load_cert_chain(cert_path, key_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
