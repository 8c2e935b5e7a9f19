"""Hadoop's Writable encodings: zero-compressed VInt/VLong and Text.

Hadoop serializes many small records (credentials files, delegation token
identifiers) with ``org.apache.hadoop.io.WritableUtils`` rather than protobuf.
Its variable-length integers are *not* protobuf varints:

* a value in -112..127 is one byte, the value itself (two's complement);
* otherwise a first byte says how many big-endian bytes follow and the sign:
  -113..-120 for 1..8 bytes of a non-negative value, -121..-128 for 1..8 bytes
  of a negative value stored as its one's complement (``~value``).

``Text`` is a VInt byte length followed by that many bytes of UTF-8.

Everything here is a pure function over bytes; :class:`WritableReader` walks a
buffer and raises :class:`~skein.errors.DecodeError`, naming the offset, on
truncated or invalid input.
"""

from __future__ import annotations

from typing import Final, final

from skein.errors import DecodeError

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "WritableReader",
    "WritableWriter",
    "decode_vlong",
    "encode_text",
    "encode_vint",
    "encode_vlong",
    "vint_size",
]

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# First-byte markers of WritableUtils.writeVLong: values from _ONE_BYTE_MIN up
# are stored as themselves; below it, the marker encodes length and sign.
_ONE_BYTE_MIN: Final = -112
_NEGATIVE_BASE: Final = -120


def _signed_byte(value: int) -> int:
    return value - 256 if value >= 128 else value


def encode_vlong(value: int) -> bytes:
    """Encode a 64-bit integer as Hadoop's zero-compressed VLong.

    Args:
        value: an integer in the Java ``long`` range.

    Returns:
        1 to 9 bytes.

    Raises:
        ValueError: ``value`` does not fit in a signed 64-bit integer.

    Example:
        >>> encode_vlong(127).hex(), encode_vlong(128).hex(), encode_vlong(-113).hex()
        ('7f', '8f80', '8770')
    """
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"{value} does not fit in a signed 64-bit integer")
    if _ONE_BYTE_MIN <= value <= 127:
        return bytes([value & 0xFF])
    base = _ONE_BYTE_MIN
    if value < 0:
        value = ~value  # one's complement: -113 becomes 112, and -2**63 fits in 8 bytes
        base = _NEGATIVE_BASE
    length = (value.bit_length() + 7) // 8
    return bytes([(base - length) & 0xFF]) + value.to_bytes(length, "big")


def encode_vint(value: int) -> bytes:
    """Encode a 32-bit integer as a VInt (the same bytes as :func:`encode_vlong`).

    Raises:
        ValueError: ``value`` does not fit in a signed 32-bit integer.

    Example:
        >>> encode_vint(300).hex()
        '8e012c'
    """
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"{value} does not fit in a signed 32-bit integer")
    return encode_vlong(value)


def encode_text(value: str) -> bytes:
    """Encode a string as Hadoop ``Text``: VInt byte length, then UTF-8.

    Example:
        >>> encode_text("hé").hex()
        '0368c3a9'
    """
    data = value.encode("utf-8")
    return encode_vint(len(data)) + data


def vint_size(first_byte: int) -> int:
    """Return the total encoded size (1..9) of a VInt/VLong from its first byte.

    Args:
        first_byte: the first byte, signed (-128..127) or unsigned (0..255).

    Example:
        >>> vint_size(0x05), vint_size(0x8F), vint_size(0x80)
        (1, 2, 9)
    """
    first = _signed_byte(first_byte) if first_byte > 127 else first_byte
    if first >= _ONE_BYTE_MIN:
        return 1
    if first < _NEGATIVE_BASE:
        return _NEGATIVE_BASE + 1 - first
    return _ONE_BYTE_MIN + 1 - first


def decode_vlong(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int]:
    """Decode one VLong from ``data`` at ``offset``.

    Mirrors ``WritableUtils.readVLong``, including its acceptance of
    non-minimal encodings (a long form for a small value).

    Returns:
        ``(value, next_offset)``.

    Raises:
        DecodeError: the input ends before the value does.

    Example:
        >>> decode_vlong(bytes.fromhex("8f80"))
        (128, 2)
    """
    reader = WritableReader(data, offset)
    return reader.read_vlong(), reader.offset


@final
class WritableReader:
    """Reads Writable-encoded values from a buffer, advancing an offset.

    Args:
        data: the buffer; it is not copied, so do not mutate it while reading.
        offset: where to start.

    Example:
        >>> reader = WritableReader(encode_vint(300) + encode_text("alias"))
        >>> reader.read_vint(), reader.read_text(), reader.at_end()
        (300, 'alias', True)
    """

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes | bytearray | memoryview, offset: int = 0) -> None:
        self._data = memoryview(data).cast("B")
        if not 0 <= offset <= len(self._data):
            raise ValueError(f"offset {offset} is outside a buffer of {len(self._data)} bytes")
        self._offset = offset

    @property
    def offset(self) -> int:
        """The offset of the next unread byte."""
        return self._offset

    @property
    def remaining(self) -> int:
        """How many bytes are left to read."""
        return len(self._data) - self._offset

    def at_end(self) -> bool:
        """Return whether every byte has been read."""
        return self._offset == len(self._data)

    def read_bytes(self, count: int) -> bytes:
        """Read exactly ``count`` bytes.

        Raises:
            DecodeError: fewer than ``count`` bytes remain, or ``count`` is negative.
        """
        if count < 0:
            raise DecodeError(f"negative length {count}", offset=self._offset)
        if count > self.remaining:
            raise DecodeError(
                f"truncated input: needed {count} bytes, {self.remaining} left",
                offset=self._offset,
            )
        start = self._offset
        self._offset += count
        return bytes(self._data[start : self._offset])

    def read_byte(self) -> int:
        """Read one signed byte (-128..127), like Java's ``DataInput.readByte``."""
        return _signed_byte(self.read_bytes(1)[0])

    def read_vlong(self) -> int:
        """Read a VLong (see the module docstring for the format)."""
        start = self._offset
        first = self.read_byte()
        size = vint_size(first)
        if size == 1:
            return first
        try:
            magnitude = int.from_bytes(self.read_bytes(size - 1), "big")
        except DecodeError as exc:
            raise DecodeError(f"truncated VLong of {size} bytes", offset=start) from exc
        if magnitude > INT64_MAX:
            # Java accumulates into a long, so 8 bytes with the top bit set wrap around.
            magnitude -= 2**64
        return ~magnitude if first < _NEGATIVE_BASE else magnitude

    def read_vint(self) -> int:
        """Read a VInt: a VLong that must fit in 32 bits.

        Raises:
            DecodeError: truncated input, or the value is outside the ``int`` range.
        """
        start = self._offset
        value = self.read_vlong()
        if not INT32_MIN <= value <= INT32_MAX:
            raise DecodeError(f"VInt value {value} does not fit in 32 bits", offset=start)
        return value

    def read_length(self) -> int:
        """Read a VInt length prefix and check that it is not negative."""
        start = self._offset
        length = self.read_vint()
        if length < 0:
            raise DecodeError(f"negative length {length}", offset=start)
        return length

    def read_vint_bytes(self) -> bytes:
        """Read a VInt length followed by that many bytes."""
        return self.read_bytes(self.read_length())

    def read_text(self) -> str:
        """Read a Hadoop ``Text``: a VInt length and UTF-8 bytes.

        Raises:
            DecodeError: truncated input or invalid UTF-8.
        """
        start = self._offset
        data = self.read_vint_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"Text is not valid UTF-8: {exc.reason}", offset=start) from exc


@final
class WritableWriter:
    """Accumulates Writable-encoded values; :meth:`getvalue` returns the bytes.

    Example:
        >>> writer = WritableWriter()
        >>> writer.write_vint(1)
        >>> writer.write_text("a")
        >>> writer.getvalue().hex()
        '010161'
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write_bytes(self, data: bytes) -> None:
        """Append raw bytes."""
        self._buffer += data

    def write_byte(self, value: int) -> None:
        """Append one byte, given signed (-128..127) or unsigned (0..255)."""
        if not -128 <= value <= 255:
            raise ValueError(f"{value} is not a byte")
        self._buffer.append(value & 0xFF)

    def write_vlong(self, value: int) -> None:
        """Append a VLong."""
        self._buffer += encode_vlong(value)

    def write_vint(self, value: int) -> None:
        """Append a VInt."""
        self._buffer += encode_vint(value)

    def write_vint_bytes(self, data: bytes) -> None:
        """Append a VInt length followed by ``data``."""
        self._buffer += encode_vint(len(data))
        self._buffer += data

    def write_text(self, value: str) -> None:
        """Append a Hadoop ``Text``."""
        self._buffer += encode_text(value)

    def getvalue(self) -> bytes:
        """Return everything written so far."""
        return bytes(self._buffer)
