"""The one error the key-value store raises: the caller asked for something it cannot do.

Every rejected request (a key over the size limit, an owner that is not a live
container, ``ignore_value`` on a missing key, a malformed condition) raises
:class:`KeyValueError`. It is also a ``ValueError``, which is what Skein 0.8
raised on the client for the same mistakes, and its message is the text the
client shows: the gRPC layer sends it as the ``INVALID_ARGUMENT`` details.
"""

from __future__ import annotations

from skein.errors import SkeinError

__all__ = ["KeyValueError"]


class KeyValueError(SkeinError, ValueError):
    """A key-value request was rejected; nothing was changed.

    Example:
        >>> isinstance(KeyValueError("ignore_value=True & key isn't already set"), ValueError)
        True
    """
