"""Java exceptions sent back by Hadoop servers, mapped to skein's exception tree."""

from __future__ import annotations

from skein.errors import (
    AccessControlError,
    ApplicationNotFoundError,
    AuthenticationError,
    RemoteError,
    RetriableError,
    SkeinError,
    StandbyError,
)

__all__ = ["first_line", "remote_error"]

_BY_CLASS: dict[str, type[RemoteError]] = {
    "org.apache.hadoop.ipc.StandbyException": StandbyError,
    "org.apache.hadoop.ipc.RetriableException": RetriableError,
    "org.apache.hadoop.security.AccessControlException": AccessControlError,
    "org.apache.hadoop.security.authorize.AuthorizationException": AccessControlError,
    "org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException": ApplicationNotFoundError,
}

# Failures of authentication itself, whatever the call.
_AUTHENTICATION = {
    "javax.security.sasl.SaslException",
    "org.apache.hadoop.security.token.SecretManager$InvalidToken",
}


def first_line(message: str) -> str:
    """The message without the Java stack trace servers often append."""
    lines = [line for line in message.strip().splitlines() if not line.startswith("\tat ")]
    return lines[0].strip() if lines else ""


def remote_error(java_class: str, message: str) -> SkeinError:
    """The skein exception for a Java exception ``java_class`` with ``message``."""
    text = first_line(message)
    if java_class in _AUTHENTICATION:
        return AuthenticationError(f"{text or java_class} ({java_class})")
    return _BY_CLASS.get(java_class, RemoteError)(java_class, text)
