"""HTTP/2 frames built and split by hand, for byte-level tests of either end.

Written with ``struct`` alone, apart from :mod:`skein.api.http2_connection`,
so a test's bytes do not share the code under test.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Protocol

__all__ = ["frame", "grpc_message", "iter_frames", "rst_streams", "settings", "window_updates"]

_RST_STREAM, _SETTINGS, _WINDOW_UPDATE = 3, 4, 8
_SETTING_IDS = {"table_size": 0x1, "max_streams": 0x3, "initial_window": 0x4, "max_frame": 0x5}


class _Sender(Protocol):
    def data_to_send(self) -> bytes: ...


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One frame's bytes."""
    return struct.pack(">I B I", len(payload) << 8 | kind, flags, stream_id) + payload


def settings(**values: int) -> bytes:
    """A SETTINGS frame: ``table_size``, ``max_streams``, ``initial_window``, ``max_frame``."""
    payload = b"".join(struct.pack(">HI", _SETTING_IDS[k], v) for k, v in values.items())
    return frame(_SETTINGS, 0, 0, payload)


def grpc_message(data: bytes) -> bytes:
    """``data`` with gRPC's 5-byte prefix (not compressed)."""
    return struct.pack(">BI", 0, len(data)) + data


def iter_frames(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """Split ``data`` into ``(type, flags, stream id, payload)`` frames; all of it must be whole.

    Raises:
        ValueError: the last frame is cut short.
    """
    offset = 0
    while len(data) - offset >= 9:
        head, flags, stream_id = struct.unpack_from(">I B I", data, offset)
        length = head >> 8
        yield head & 0xFF, flags, stream_id & 0x7FFF_FFFF, data[offset + 9 : offset + 9 + length]
        offset += 9 + length
    if offset != len(data):
        raise ValueError(f"a frame was cut short at byte {offset} of {len(data)}")


def _pairs(sender: _Sender, kind: int) -> list[tuple[int, int]]:
    return [
        (stream_id, struct.unpack(">I", payload[:4])[0])
        for frame_kind, _, stream_id, payload in iter_frames(sender.data_to_send())
        if frame_kind == kind
    ]


def window_updates(sender: _Sender) -> list[tuple[int, int]]:
    """``(stream id, increment)`` of each WINDOW_UPDATE ``sender`` queued; empties its queue."""
    return _pairs(sender, _WINDOW_UPDATE)


def rst_streams(sender: _Sender) -> list[tuple[int, int]]:
    """``(stream id, error code)`` of each RST_STREAM ``sender`` queued; empties its queue."""
    return _pairs(sender, _RST_STREAM)
