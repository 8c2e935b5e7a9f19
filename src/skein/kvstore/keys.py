"""Key ranges: which keys a read, delete or watch covers.

Keys are ``str`` and sort by code point, which is also the order of their
UTF-8 bytes (etcd's order; Skein 0.8's Java ``TreeMap`` sorted by UTF-16 code
unit, which differs only between astral characters and U+E000..U+FFFF).

A range is ``[start, end)``: ``start`` inclusive, ``end`` exclusive. An empty
``start`` is unbounded below and an empty ``end`` unbounded above, so
``KeyRange()`` covers every key. A ``start`` after ``end`` is not an error:
the range is empty. One key ``k`` is ``[k, k + "\\0")``, since ``k + "\\0"``
is the smallest string after ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KeyRange", "prefix_end"]

# The largest code point, and the surrogates a str may hold but UTF-8 may not.
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES_FIRST = 0xD800
_SURROGATES_LAST = 0xDFFF


def prefix_end(prefix: str) -> str:
    """The end of the range of keys that start with ``prefix``.

    This is Skein's "increment the last UTF-8 byte", done on code points so the
    result is always a valid string: the last character is replaced by the next
    one (skipping the surrogates), and a last character that has no successor
    is dropped before incrementing the one before it. When nothing is left the
    range is unbounded above, and the end is ``""``.

    Example:
        >>> prefix_end("worker/"), prefix_end("é")
        ('worker0', 'ê')
        >>> prefix_end(""), prefix_end("\\U0010ffff")
        ('', '')
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop())
        if code < _MAX_CODE_POINT:
            code += 1
            if _SURROGATES_FIRST <= code <= _SURROGATES_LAST:
                code = _SURROGATES_LAST + 1
            return "".join(chars) + chr(code)
    return ""


@dataclass(frozen=True, slots=True)
class KeyRange:
    """The keys from ``start`` (inclusive) up to ``end`` (exclusive).

    Args:
        start: the first key of the range; ``""`` is unbounded below.
        end: the key after the range; ``""`` is unbounded above.

    Example:
        >>> r = KeyRange.prefix("worker/")
        >>> r, r.contains("worker/1"), r.contains("workers")
        (KeyRange(start='worker/', end='worker0'), True, False)
        >>> KeyRange.single("a").single_key, KeyRange("b", "a").contains("a")
        ('a', False)
    """

    start: str = ""
    end: str = ""

    @classmethod
    def single(cls, key: str) -> KeyRange:
        """The range holding only ``key``."""
        return cls(key, key + "\0")

    @classmethod
    def prefix(cls, prefix: str) -> KeyRange:
        """The range of keys that start with ``prefix`` (every key for ``""``)."""
        return cls(prefix, prefix_end(prefix))

    @property
    def single_key(self) -> str | None:
        """The one key this range holds, if it is a single-key range."""
        return self.start if self.end == self.start + "\0" else None

    def contains(self, key: str) -> bool:
        """Whether ``key`` lies in the range."""
        return self.start <= key and (not self.end or key < self.end)
