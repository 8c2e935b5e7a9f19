"""Hadoop's TFile, the container YARN writes aggregated logs in, read from bytes.

A TFile (``org.apache.hadoop.io.file.tfile``) is a sequence of key-value entries
stored in a BCFile, a "block compressed file". Nothing here does I/O:
:func:`parse_tfile` takes the whole file as bytes and returns its entries.

Theory of operation. A BCFile is laid out as::

    magic                       16 bytes (BCFile.Magic)
    blocks                      data blocks, then meta blocks, each compressed on its own
    meta index                  VInt count, then per meta block:
                                  String "data:" + name, String compression, region
    trailer                     int64 meta index offset, int16 major, int16 minor, magic

where a *region* is three VLongs (offset, compressed size, raw size) and a
*String* is a VInt byte length then UTF-8 (``Utils.readString``). Three meta
blocks describe the TFile:

* ``BCFile.index``: String default compression, VInt count, the data blocks' regions;
* ``TFile.meta``: version (int16 major, int16 minor), VLong entry count, String
  comparator (empty: keys are not sorted, as in aggregated logs);
* ``TFile.index``: VInt n, then n bytes holding the first key, then per data
  block a VInt size and (VInt key length, last key, VLong entries in the block).

Each data block holds its entries back to back: VInt key length, the key, then
the value in *chunks* (``Chunk.ChunkEncoder``): VInt n and n bytes, where a
negative n means -n bytes with more chunks to follow.

TFile's VInt/VLong (``tfile.Utils``) is its own encoding, unlike Hadoop's
``WritableUtils``: see :func:`decode_tfile_vlong`. Blocks are compressed with
``none`` or ``gz`` (zlib streams, as Hadoop's ``DefaultCodec`` writes them);
``lzo`` needs a codec Hadoop itself does not ship and is refused with
:class:`~skein.errors.UnsupportedLogFormatError`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final, final

from skein.errors import DecodeError, UnsupportedLogFormatError

__all__ = ["BCFILE_MAGIC", "TFile", "TFileEntry", "decode_tfile_vlong", "is_tfile", "parse_tfile"]

BCFILE_MAGIC: Final = bytes.fromhex("d111d36891b5d7b639df414092bae150")
"""The 16 bytes a BCFile starts and ends with (``BCFile.Magic``)."""

# Both BCFile and TFile are at format version 1.0; a reader accepts any minor version.
_MAJOR_VERSION: Final = 1
_TRAILER_SIZE: Final = 8 + 2 + 2 + len(BCFILE_MAGIC)
_META_PREFIX: Final = "data:"
_DATA_INDEX: Final = "BCFile.index"
_TFILE_META: Final = "TFile.meta"
_TFILE_INDEX: Final = "TFile.index"
_COMPRESSIONS: Final = ("none", "gz")
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
# Deflate never expands more than about 1032:1.
_ZLIB_MAX_RATIO: Final = 1100


@dataclass(frozen=True, slots=True, kw_only=True)
class TFileEntry:
    """One key-value pair of a TFile.

    Attributes:
        key: the key bytes.
        value: the value bytes, with its chunks joined.
    """

    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TFile:
    """The content of a TFile.

    Attributes:
        compression: the data blocks' compression, ``"none"`` or ``"gz"``.
        comparator: how keys are sorted (``""`` for unsorted, else e.g. ``"memcmp"``).
        entries: every entry, in file order.
    """

    compression: str
    comparator: str
    entries: tuple[TFileEntry, ...]


@dataclass(frozen=True, slots=True)
class _Region:
    offset: int
    compressed_size: int
    raw_size: int


@final
class _Reader:
    """Reads TFile's encodings from a buffer, advancing an offset; ``where`` names it in errors."""

    __slots__ = ("_data", "_offset", "_where")

    def __init__(self, data: bytes | memoryview, where: str, offset: int = 0) -> None:
        self._data = memoryview(data).cast("B")
        self._where = where
        self._offset = offset

    def error(self, message: str, offset: int | None = None) -> DecodeError:
        return DecodeError(f"{self._where}: {message}", offset=offset)

    def at_end(self) -> bool:
        return self._offset >= len(self._data)

    def read_bytes(self, count: int) -> bytes:
        if count < 0 or count > len(self._data) - self._offset:
            raise self.error(
                f"needed {count} bytes, {len(self._data) - self._offset} left", self._offset
            )
        start = self._offset
        self._offset += count
        return bytes(self._data[start : self._offset])

    def read_int(self, size: int) -> int:
        return int.from_bytes(self.read_bytes(size), "big", signed=True)

    def read_vlong(self) -> int:
        start = self._offset
        try:
            value, self._offset = _decode_vlong(self._data, self._offset)
        except ValueError as exc:
            raise self.error(str(exc), start) from None
        return value

    def read_vint(self) -> int:
        start = self._offset
        value = self.read_vlong()
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise self.error(f"VInt {value} does not fit in 32 bits", start)
        return value

    def read_length(self) -> int:
        start = self._offset
        length = self.read_vint()
        if length < 0:
            raise self.error(f"negative length {length}", start)
        return length

    def read_string(self) -> str:
        start = self._offset
        data = self.read_bytes(self.read_length())
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("string is not UTF-8", start) from None

    def read_region(self) -> _Region:
        return _Region(self.read_vlong(), self.read_vlong(), self.read_vlong())

    def read_chunked(self) -> bytes:
        """A value in chunks: negative lengths announce that more chunks follow."""
        parts: list[bytes] = []
        while True:
            length = self.read_vint()
            parts.append(self.read_bytes(abs(length)))
            if length >= 0:
                return b"".join(parts)


def _decode_vlong(view: memoryview, offset: int) -> tuple[int, int]:
    if offset >= len(view):
        raise ValueError("truncated VLong")
    first = view[offset] - 256 if view[offset] >= 128 else view[offset]
    if first >= -32:
        return first, offset + 1
    high: int | None
    if first >= -72:
        high, size = first + 52, 1
    elif first >= -104:
        high, size = first + 88, 2
    elif first >= -120:
        high, size = first + 112, 3
    else:
        high, size = None, first + 129
        if size < 4:
            raise ValueError(f"corrupted VLong (length byte {first})")
    end = offset + 1 + size
    if end > len(view):
        raise ValueError(f"truncated VLong of {size + 1} bytes")
    rest = bytes(view[offset + 1 : end])
    if high is None:
        return int.from_bytes(rest, "big", signed=True), end
    return (high << (8 * size)) | int.from_bytes(rest, "big"), end


def decode_tfile_vlong(data: bytes | memoryview, offset: int = 0) -> tuple[int, int]:
    """Decode one TFile VLong (``org.apache.hadoop.io.file.tfile.Utils.readVLong``).

    The first byte, read as signed, decides the length: -32..127 is the value
    itself; -72..-33, -104..-73 and -120..-105 carry the high bits of a 2, 3 or
    4 byte value (biased by 52, 88 and 112); -128..-121 say that 1..8 more bytes
    hold a signed big-endian number (only 4..8 are ever written).

    Returns:
        ``(value, next_offset)``.

    Raises:
        DecodeError: the input ends early, or the length byte is one Hadoop never writes.

    Example:
        >>> decode_tfile_vlong(bytes.fromhex("cc80"))
        (128, 2)
        >>> decode_tfile_vlong(bytes.fromhex("8380000000"))
        (-2147483648, 5)
    """
    try:
        return _decode_vlong(memoryview(data).cast("B"), offset)
    except ValueError as exc:
        raise DecodeError(str(exc), offset=offset) from None


def is_tfile(data: bytes) -> bool:
    """Return whether ``data`` starts and ends with the BCFile magic.

    Example:
        >>> is_tfile(b"not a tfile")
        False
    """
    return (
        len(data) >= len(BCFILE_MAGIC) + _TRAILER_SIZE
        and data.startswith(BCFILE_MAGIC)
        and data.endswith(BCFILE_MAGIC)
    )


def _decompress(block: bytes, compression: str, raw_size: int, where: str) -> bytes:
    if raw_size < 0:
        raise DecodeError(f"{where}: negative raw size {raw_size}")
    if compression == "none":
        raw = block
    elif compression == "gz":
        raw = _inflate(block, raw_size, where)
    else:
        raise UnsupportedLogFormatError(
            f"{where} is compressed with {compression!r}; supported: {', '.join(_COMPRESSIONS)}"
        )
    if len(raw) != raw_size:
        raise DecodeError(f"{where}: {len(raw)} bytes after decompression, expected {raw_size}")
    return raw


def _inflate(block: bytes, raw_size: int, where: str) -> bytes:
    # Hadoop finishes the zlib stream whenever a block is flushed, so a block
    # may hold several; and never inflate past the announced size (nor past
    # zlib's best ratio, which also keeps the limit a machine-sized integer).
    budget = min(raw_size, _ZLIB_MAX_RATIO * len(block)) + 1
    parts: list[bytes] = []
    rest = block
    while rest:
        inflater = zlib.decompressobj()
        try:
            parts.append(inflater.decompress(rest, budget))
        except zlib.error as exc:
            raise DecodeError(f"{where}: bad gz data ({exc})") from None
        budget -= len(parts[-1])
        if budget <= 0:
            raise DecodeError(f"{where}: inflates to more than the announced {raw_size} bytes")
        if not inflater.eof:
            raise DecodeError(f"{where}: truncated gz data")
        rest = inflater.unused_data
    return b"".join(parts)


def _block(data: bytes, region: _Region, limit: int, compression: str, where: str) -> bytes:
    end = region.offset + region.compressed_size
    if region.offset < len(BCFILE_MAGIC) or region.compressed_size < 0 or end > limit:
        raise DecodeError(f"{where}: region {region} lies outside the file's blocks")
    return _decompress(data[region.offset : end], compression, region.raw_size, where)


def _trailer(data: bytes) -> int:
    """Check both magics and the version; return the meta index offset."""
    if not is_tfile(data):
        raise DecodeError("not a TFile: the BCFile magic is missing")
    reader = _Reader(data, "BCFile trailer", len(data) - _TRAILER_SIZE)
    index_offset = reader.read_int(8)
    major, minor = reader.read_int(2), reader.read_int(2)
    if major != _MAJOR_VERSION:
        raise DecodeError(f"BCFile version {major}.{minor} is not supported")
    if not len(BCFILE_MAGIC) <= index_offset <= len(data) - _TRAILER_SIZE:
        raise DecodeError(f"BCFile meta index offset {index_offset} is outside the file")
    return index_offset


def _meta_index(data: bytes, index_offset: int) -> dict[str, tuple[str, _Region]]:
    reader = _Reader(data, "BCFile meta index", index_offset)
    blocks: dict[str, tuple[str, _Region]] = {}
    for _ in range(reader.read_length()):
        name = reader.read_string()
        if not name.startswith(_META_PREFIX):
            raise reader.error(f"meta block name {name!r} lacks the {_META_PREFIX!r} prefix")
        compression = reader.read_string()
        blocks[name.removeprefix(_META_PREFIX)] = (compression, reader.read_region())
    return blocks


def _entry_counts(index: bytes, blocks: int) -> list[int]:
    """The number of entries in each data block, from ``TFile.index``."""
    reader = _Reader(index, _TFILE_INDEX)
    first_key_size = reader.read_length()
    if first_key_size == 0:  # an empty TFile has no first key and no blocks
        if blocks:
            raise reader.error(f"no index entries for {blocks} data blocks")
        return []
    reader.read_bytes(first_key_size)
    counts = []
    for _ in range(blocks):
        entry = _Reader(reader.read_bytes(reader.read_length()), _TFILE_INDEX)
        entry.read_bytes(entry.read_length())  # the block's last key
        counts.append(entry.read_vlong())
    return counts


def _entries(block: bytes, count: int, where: str) -> list[TFileEntry]:
    reader = _Reader(block, where)
    entries = []
    for _ in range(count):
        key = reader.read_bytes(reader.read_length())
        entries.append(TFileEntry(key=key, value=reader.read_chunked()))
    if not reader.at_end():
        raise reader.error("bytes left after the last entry")
    return entries


def parse_tfile(data: bytes) -> TFile:
    """Read every entry of a TFile.

    Args:
        data: the whole file.

    Raises:
        DecodeError: it is not a TFile, or it is truncated or corrupt.
        UnsupportedLogFormatError: its blocks use a compression other than none or gz.

    Example:
        >>> from pathlib import Path
        >>> tfile = parse_tfile(Path("aggregated_log").read_bytes())  # doctest: +SKIP
        >>> [entry.key for entry in tfile.entries][:2]  # doctest: +SKIP
        [b'\\x00\\x07VERSION', b'\\x00\\x0fAPPLICATION_ACL']
    """
    index_offset = _trailer(data)
    meta = _meta_index(data, index_offset)
    missing = [name for name in (_DATA_INDEX, _TFILE_META, _TFILE_INDEX) if name not in meta]
    if missing:
        raise DecodeError(f"not a TFile: meta block {missing[0]!r} is missing")

    def meta_block(name: str) -> bytes:
        compression, region = meta[name]
        return _block(data, region, index_offset, compression, f"meta block {name!r}")

    data_index = _Reader(meta_block(_DATA_INDEX), _DATA_INDEX)
    compression = data_index.read_string()
    regions = [data_index.read_region() for _ in range(data_index.read_length())]

    tfile_meta = _Reader(meta_block(_TFILE_META), _TFILE_META)
    major, minor = tfile_meta.read_int(2), tfile_meta.read_int(2)
    if major != _MAJOR_VERSION:
        raise DecodeError(f"TFile version {major}.{minor} is not supported")
    total = tfile_meta.read_vlong()
    comparator = tfile_meta.read_string()

    counts = _entry_counts(meta_block(_TFILE_INDEX), len(regions))
    if sum(counts) != total:
        raise DecodeError(f"TFile.index counts {sum(counts)} entries, TFile.meta {total}")
    entries: list[TFileEntry] = []
    for number, (region, count) in enumerate(zip(regions, counts, strict=True)):
        where = f"data block {number}"
        entries += _entries(_block(data, region, index_offset, compression, where), count, where)
    return TFile(compression=compression, comparator=comparator, entries=tuple(entries))
