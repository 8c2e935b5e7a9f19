"""Table and JSON rendering of CLI results (pure logic)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from skein.cli.output import format_table, humanize_timedelta, to_json
from skein.yarn.enums import NodeState
from skein.yarn.records import NodeReport, Resources


def test_humanize() -> None:
    assert humanize_timedelta(timedelta(hours=1, minutes=2, seconds=3)) == "1h 2m"
    assert humanize_timedelta(timedelta(minutes=2, seconds=3)) == "2m"
    assert humanize_timedelta(timedelta(seconds=3)) == "3s"


def test_table_aligns_columns_and_renders_enums_and_sets() -> None:
    table = format_table(
        ["ID", "STATE", "LABELS"],
        [["a", NodeState.RUNNING, frozenset({"y", "x"})], ["long-id", NodeState.LOST, None]],
    )
    assert table.splitlines() == [
        "ID       STATE    LABELS",
        "a        RUNNING  x,y",
        "long-id  LOST",
    ]


def test_json_of_records() -> None:
    node = NodeReport(
        id="h:1",
        http_address="h:2",
        rack_name="/r",
        labels=frozenset({"gpu"}),
        state=NodeState.RUNNING,
        health_report="",
        total_resources=Resources(memory=8, vcores=2),
        used_resources=Resources(memory=0, vcores=0),
    )
    data = json.loads(to_json([node]))
    assert data[0]["state"] == "RUNNING"
    assert data[0]["labels"] == ["gpu"]
    assert data[0]["total_resources"]["memory"] == 8
    assert (
        json.loads(to_json(datetime(2026, 1, 1, tzinfo=timezone.utc)))
        == "2026-01-01T00:00:00+00:00"
    )
