"""Time bounds for application queries, given as datetimes or short strings.

Skein 0.8 accepted ``YYYY-M-D``, ``YYYY-M-D H:M``, ``YYYY-M-D H:M:S``, ``H:M``
and ``H:M:S`` (a time alone means today), in local time.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

__all__ = ["parse_time_bound", "to_millis"]

_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S")


def parse_time_bound(value: datetime | str | None, parameter: str) -> datetime | None:
    """Return ``value`` as an aware datetime (naive ones are local time).

    Args:
        value: a datetime, a string in one of the accepted forms, or None.
        parameter: the parameter's name, for error messages.

    Raises:
        TypeError: ``value`` is neither a datetime nor a string.
        ValueError: the string is in none of the accepted forms.

    Example:
        >>> parse_time_bound("2026-1-2 3:04", "started_begin").isoformat()[:16]
        '2026-01-02T03:04'
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be a datetime or a string, not {type(value).__name__}")
    text = value.strip()
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).astimezone()
        except ValueError:
            pass
    for fmt in _TIME_FORMATS:
        try:
            clock = datetime.strptime(text, fmt).time()
        except ValueError:
            continue
        return datetime.combine(date.today(), clock).astimezone()
    raise ValueError(
        f"{parameter}: cannot parse {value!r}; expected YYYY-M-D, YYYY-M-D H:M, "
        "YYYY-M-D H:M:S, H:M or H:M:S"
    )


def to_millis(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)
