"""Hadoop's Writable encodings: VInt/VLong edge values, Text, and truncated input."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein.errors import DecodeError, ProtocolError
from skein.hadoop.writable import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    WritableReader,
    WritableWriter,
    decode_vlong,
    encode_text,
    encode_vint,
    encode_vlong,
    vint_size,
)

# Derived by hand from WritableUtils.writeVLong's algorithm (and identical to what
# Hadoop 3.5.0 writes; see test_vectors_match_java).
KNOWN_VLONGS = {
    0: "00",
    1: "01",
    -1: "ff",
    127: "7f",
    -112: "90",  # the smallest single-byte value
    -113: "8770",  # one's complement 112 in one byte, marker -121
    128: "8f80",  # the first two-byte value, marker -113
    -128: "877f",
    -129: "8780",
    255: "8fff",
    256: "8e0100",
    300: "8e012c",
    -300: "86012b",
    INT32_MAX: "8c7fffffff",
    INT32_MIN: "847fffffff",
    2**32: "8b0100000000",
    INT64_MAX: "887fffffffffffffff",
    INT64_MIN: "807fffffffffffffff",
}

int64s = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)


@pytest.mark.parametrize(("value", "encoded"), KNOWN_VLONGS.items())
def test_known_vectors(value: int, encoded: str) -> None:
    assert encode_vlong(value).hex() == encoded
    assert decode_vlong(bytes.fromhex(encoded)) == (value, len(encoded) // 2)


@given(int64s)
def test_vlong_round_trip(value: int) -> None:
    encoded = encode_vlong(value)
    assert vint_size(encoded[0]) == len(encoded)
    assert decode_vlong(encoded) == (value, len(encoded))


@given(int64s)
def test_single_byte_exactly_for_minus_112_to_127(value: int) -> None:
    assert (len(encode_vlong(value)) == 1) == (-112 <= value <= 127)


@given(int64s, st.binary(max_size=8))
def test_trailing_bytes_are_left_alone(value: int, trailing: bytes) -> None:
    encoded = encode_vlong(value)
    reader = WritableReader(encoded + trailing)
    assert reader.read_vlong() == value
    assert reader.offset == len(encoded)
    assert reader.read_bytes(reader.remaining) == trailing


@given(int64s)
def test_every_truncation_raises_decode_error(value: int) -> None:
    encoded = encode_vlong(value)
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError) as info:
            decode_vlong(encoded[:cut])
        assert info.value.offset == 0


def test_decode_at_an_offset() -> None:
    data = b"\xaa" + encode_vlong(1000)
    assert decode_vlong(data, 1) == (1000, 4)


def test_non_minimal_encodings_decode_like_java() -> None:
    # Java never writes these, but its reader accepts them.
    assert decode_vlong(bytes.fromhex("8f05"))[0] == 5
    # Eight bytes with the top bit set wrap around in Java's long.
    assert decode_vlong(bytes.fromhex("88ffffffffffffffff"))[0] == -1


def test_out_of_range_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="64-bit"):
        encode_vlong(INT64_MAX + 1)
    with pytest.raises(ValueError, match="64-bit"):
        encode_vlong(INT64_MIN - 1)
    with pytest.raises(ValueError, match="32-bit"):
        encode_vint(INT32_MAX + 1)
    assert encode_vint(INT32_MIN) == encode_vlong(INT32_MIN)


def test_vint_reader_rejects_values_beyond_32_bits() -> None:
    reader = WritableReader(b"\x00" + encode_vlong(INT32_MAX + 1))
    reader.read_byte()
    with pytest.raises(DecodeError, match="32 bits") as info:
        reader.read_vint()
    assert info.value.offset == 1
    assert isinstance(info.value, ProtocolError)


@given(st.text())
def test_text_round_trip(value: str) -> None:
    reader = WritableReader(encode_text(value))
    assert reader.read_text() == value
    assert reader.at_end()


def test_text_uses_utf8_byte_length() -> None:
    assert encode_text("é" * 100).hex() == "8fc8" + "c3a9" * 100


def test_text_errors_name_the_offset() -> None:
    with pytest.raises(DecodeError, match="UTF-8") as info:
        WritableReader(b"\x00\x00\x01\xff", offset=2).read_text()
    assert info.value.offset == 2
    with pytest.raises(DecodeError, match="truncated") as info:
        WritableReader(b"\x05abc").read_text()
    assert "offset 1" in str(info.value)
    with pytest.raises(DecodeError, match="negative length"):
        WritableReader(encode_vint(-1)).read_text()


def test_read_byte_is_signed() -> None:
    assert WritableReader(b"\x80\x7f").read_byte() == -128


def test_writer_matches_the_encoders() -> None:
    writer = WritableWriter()
    writer.write_byte(-1)
    writer.write_vint(300)
    writer.write_vlong(-(2**40))
    writer.write_text("kind")
    writer.write_vint_bytes(b"\x01\x02")
    writer.write_bytes(b"!")
    expected = (
        b"\xff" + encode_vint(300) + encode_vlong(-(2**40)) + encode_text("kind") + b"\x02\x01\x02!"
    )
    assert writer.getvalue() == expected
    with pytest.raises(ValueError, match="not a byte"):
        writer.write_byte(256)


def test_reader_rejects_an_offset_outside_the_buffer() -> None:
    with pytest.raises(ValueError, match="outside"):
        WritableReader(b"ab", offset=3)


@pytest.mark.java
def test_vectors_match_java(hadoop_java: Callable[..., list[str]]) -> None:
    rng = random.Random(20240611)
    values = [*KNOWN_VLONGS, *(rng.randint(INT64_MIN, INT64_MAX) for _ in range(50))]
    values += [rng.choice((-1, 1)) * rng.randint(0, 2 ** rng.randint(1, 62)) for _ in range(50)]
    java_hex = hadoop_java("vlong", *map(str, values))
    assert java_hex == [encode_vlong(value).hex() for value in values]


@pytest.mark.java
def test_decoding_matches_java(hadoop_java: Callable[..., list[str]]) -> None:
    encodings = ["8f05", "88ffffffffffffffff", "80ffffffffffffffff", "877f", "8e0001", "90"]
    java_values = hadoop_java("read-vlong", *encodings)
    assert java_values == [str(decode_vlong(bytes.fromhex(e))[0]) for e in encodings]
