"""Time bounds of application queries (pure logic)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from skein.client.time_filters import parse_time_bound, to_millis


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-1-2", datetime(2026, 1, 2)),
        ("2026-01-02 3:04", datetime(2026, 1, 2, 3, 4)),
        ("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5)),
    ],
)
def test_date_forms_are_local_time(text: str, expected: datetime) -> None:
    assert parse_time_bound(text, "started_begin") == expected.astimezone()


def test_time_alone_means_today() -> None:
    parsed = parse_time_bound("13:05", "started_end")
    assert parsed is not None
    assert parsed.date() == date.today()
    assert (parsed.hour, parsed.minute) == (13, 5)


def test_datetimes_pass_through_and_naive_ones_become_local() -> None:
    aware = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert parse_time_bound(aware, "x") is aware
    naive = datetime(2026, 1, 2)
    assert parse_time_bound(naive, "x") == naive.astimezone()
    assert parse_time_bound(None, "x") is None


def test_bad_type_names_the_parameter() -> None:
    with pytest.raises(TypeError, match="finished_begin must be a datetime or a string, not int"):
        parse_time_bound(5, "finished_begin")  # type: ignore[arg-type]


def test_unparsable_string_names_the_parameter_and_forms() -> None:
    with pytest.raises(ValueError, match=r"started_begin: cannot parse 'yesterday'; expected"):
        parse_time_bound("yesterday", "started_begin")


def test_millis() -> None:
    assert to_millis(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc)) == 1000
