"""The store's keys in order: inserts and deletes that stay cheap as the store grows.

One sorted Python list costs a ``memmove`` of half the list per insert: about
5 µs at 60,000 keys but 140 µs at a million, on every put of a new key.
:class:`KeyIndex` keeps the keys in sorted chunks of at most
``2 * chunk_size`` keys, with each chunk's last key in a separate list for
bisecting, so an insert or delete moves at most one chunk's worth of
pointers (and, rarely, the short list of chunk maxima).

Example:
    >>> index = KeyIndex(["b", "a"])
    >>> index.add("c")
    >>> index.keys("a", "c"), index.count("b", ""), len(index)
    (['a', 'b'], 2, 3)
    >>> index.remove_range("b", "")
    ['b', 'c']
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator

__all__ = ["KeyIndex"]

#: Keys per chunk, as built; a chunk splits when twice this, and merges with a
#: neighbour below a quarter of it. Near the cost balance of bisecting the
#: chunk maxima and moving one chunk's pointers.
CHUNK_SIZE = 512


class KeyIndex:
    """A sorted set of ``str`` keys with range queries; ``end == ""`` means no upper bound.

    Every key is in exactly one chunk; chunks are non-empty, sorted, and in
    order; ``_maxes[i]`` is ``_chunks[i][-1]``.
    """

    __slots__ = ("_chunk_size", "_chunks", "_len", "_maxes")

    def __init__(self, keys: Iterable[str] = (), *, chunk_size: int = CHUNK_SIZE) -> None:
        self._chunk_size = chunk_size
        self._chunks: list[list[str]] = []
        self._maxes: list[str] = []
        self._len = 0
        self._rebuild(sorted(set(keys)))

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            yield from chunk

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return False
        chunk = self._chunks[i]
        j = bisect_left(chunk, key)
        return j < len(chunk) and chunk[j] == key

    def add(self, key: str) -> None:
        """Insert ``key``, which must not be present."""
        maxes = self._maxes
        if not maxes:
            self._chunks.append([key])
            maxes.append(key)
            self._len = 1
            return
        i = bisect_left(maxes, key)
        if i == len(maxes):  # a new largest key: the usual case for increasing keys
            i -= 1
            self._chunks[i].append(key)
            maxes[i] = key
        else:
            insort(self._chunks[i], key)
        self._len += 1
        if len(self._chunks[i]) > 2 * self._chunk_size:
            self._split(i)

    def remove(self, key: str) -> None:
        """Delete ``key``; :class:`KeyError` if it is not present."""
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            raise KeyError(key)
        chunk = self._chunks[i]
        j = bisect_left(chunk, key)
        if chunk[j] != key:
            raise KeyError(key)
        del chunk[j]
        self._len -= 1
        if not chunk:
            del self._chunks[i]
            del self._maxes[i]
            return
        if j == len(chunk):
            self._maxes[i] = chunk[-1]
        if len(chunk) < self._chunk_size // 4 and len(self._chunks) > 1:
            self._merge(i)

    def keys(self, start: str, end: str) -> list[str]:
        """The keys ``k`` with ``start <= k < end`` (``end == ""``: no bound), in order."""
        out: list[str] = []
        for chunk, lo, hi in self._spans(start, end):
            out.extend(chunk[lo:hi])
        return out

    def count(self, start: str, end: str) -> int:
        """How many keys ``keys(start, end)`` would give, without listing them."""
        return sum(hi - lo for _, lo, hi in self._spans(start, end))

    def remove_range(self, start: str, end: str) -> list[str]:
        """Delete the keys of ``keys(start, end)``; return them, in order."""
        doomed = self.keys(start, end)
        self.remove_many(doomed)
        return doomed

    def remove_many(self, keys: Iterable[str]) -> None:
        """Delete ``keys``, all present: one by one if few, else by one rebuild."""
        keys = list(keys)
        if len(keys) <= self._chunk_size:
            for key in keys:
                self.remove(key)
            return
        gone = set(keys)
        remaining = [key for key in self if key not in gone]
        if len(remaining) != self._len - len(gone):
            raise KeyError("remove_many: some keys are not present")
        self._rebuild(remaining)

    # -- internals --------------------------------------------------------------------

    def _spans(self, start: str, end: str) -> Iterator[tuple[list[str], int, int]]:
        """``(chunk, lo, hi)`` for each chunk's part of ``[start, end)``."""
        if end and end <= start:
            return
        chunks = self._chunks
        first = bisect_left(self._maxes, start)
        for i in range(first, len(chunks)):
            chunk = chunks[i]
            lo = bisect_left(chunk, start) if i == first else 0
            if end and self._maxes[i] >= end:
                yield chunk, lo, bisect_left(chunk, end, lo)
                return
            yield chunk, lo, len(chunk)

    def _split(self, i: int) -> None:
        chunk = self._chunks[i]
        half = chunk[self._chunk_size :]
        del chunk[self._chunk_size :]
        self._chunks.insert(i + 1, half)
        self._maxes.insert(i, chunk[-1])  # maxes[i + 1] is now half's, the old maximum

    def _merge(self, i: int) -> None:
        j = i if i + 1 < len(self._chunks) else i - 1  # merge chunks j and j + 1
        self._chunks[j].extend(self._chunks[j + 1])
        del self._chunks[j + 1]
        self._maxes[j] = self._maxes[j + 1]
        del self._maxes[j + 1]
        if len(self._chunks[j]) > 2 * self._chunk_size:
            self._split(j)

    def _rebuild(self, ordered: list[str]) -> None:
        size = self._chunk_size
        self._chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
        self._maxes = [chunk[-1] for chunk in self._chunks]
        self._len = len(ordered)
