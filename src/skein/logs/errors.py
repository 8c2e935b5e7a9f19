"""Why the logs of an application could not be read.

Both classes sit under :class:`skein.errors.SkeinError`; they are candidates to
move into :mod:`skein.errors` with the rest of the tree. Bytes that do not
decode raise :class:`skein.errors.DecodeError` instead.
"""

from __future__ import annotations

from skein.errors import SkeinError

__all__ = ["LogsUnavailableError", "UnsupportedLogFormatError"]


class LogsUnavailableError(SkeinError, ValueError):
    """The logs are not there (yet): aggregation is disabled, unfinished, or found nothing.

    Also a ``ValueError``, which is what Skein 0.8 raised when logs were not available.

    Example:
        >>> raise LogsUnavailableError("log aggregation is disabled")
        Traceback (most recent call last):
        ...
        skein.logs.errors.LogsUnavailableError: log aggregation is disabled
    """


class UnsupportedLogFormatError(LogsUnavailableError):
    """The logs exist in a format skein cannot read (IFile, LZO compression, HAR archives)."""
