"""Rendering of CLI results: aligned tables for people, JSON for programs."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

__all__ = ["format_table", "humanize_timedelta", "to_json"]


def humanize_timedelta(delta: timedelta) -> str:
    """``Xh Ym``, ``Ym`` or ``Xs``, as Skein 0.8's tables showed run times.

    Example:
        >>> humanize_timedelta(timedelta(hours=2, minutes=5))
        '2h 5m'
        >>> humanize_timedelta(timedelta(seconds=42))
        '42s'
    """
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, headers first.

    Example:
        >>> print(format_table(["ID", "STATE"], [["a", "RUNNING"], ["bb", "LOST"]]))
        ID  STATE
        a   RUNNING
        bb  LOST
    """
    cells = [[str(h) for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.name)
    if isinstance(value, (set, frozenset, list, tuple)):
        return ",".join(sorted(str(v) for v in value))
    return str(value)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        result = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return result
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Records (dataclasses), enums and datetimes as indented JSON."""
    return json.dumps(_plain(value), indent=2, sort_keys=True)
