"""Where aggregated logs are, from the configuration (LogAggregationUtils' layout)."""

from __future__ import annotations

import pytest

from skein.hadoop.configuration import HadoopConfiguration
from skein.logs.layout import (
    app_log_directories,
    is_log_aggregation_enabled,
    is_node_file,
    node_of,
)
from skein.yarn.ids import ApplicationId

APP = ApplicationId(cluster_timestamp=1795586012926, id=34)
APP_ID = "application_1795586012926_0034"
IFILE_CLASS = (
    "org.apache.hadoop.yarn.logaggregation.filecontroller.ifile.LogAggregationIndexedFileController"
)


def paths(conf: dict[str, str], owner: str = "root") -> list[tuple[str, str, bool]]:
    return [
        (d.path, d.file_format, d.readable)
        for d in app_log_directories(HadoopConfiguration(conf), APP, owner)
    ]


def test_test_cluster_layout_comes_first() -> None:
    # As found on the test cluster (Hadoop 3.5.0, remote-app-log-dir /tmp/logs).
    found = paths({"yarn.nodemanager.remote-app-log-dir": "/tmp/logs"})
    assert found[0] == (f"/tmp/logs/root/bucket-logs-tfile/0034/{APP_ID}", "TFile", True)
    assert [p for p, _, _ in found[1:]] == [
        f"/tmp/logs/root/logs-tfile/{APP_ID}",
        f"/tmp/logs/root/bucket-logs/0034/{APP_ID}",
        f"/tmp/logs/root/logs/{APP_ID}",  # Hadoop 2
    ]


def test_bucket_is_the_sequence_number_modulo_10000() -> None:
    app = ApplicationId(cluster_timestamp=1, id=123456)
    (first, *_) = app_log_directories(HadoopConfiguration(), app, "u")
    assert first.path == "/tmp/logs/u/bucket-logs-tfile/3456/application_1_123456"


def test_configured_root_and_suffixes() -> None:
    found = paths(
        {
            "yarn.nodemanager.remote-app-log-dir": "hdfs://nn:8020/app-logs/",
            "yarn.nodemanager.remote-app-log-dir-suffix": "agg",
            "yarn.log-aggregation.TFile.remote-app-log-dir-suffix": "tf",
        },
        owner="alice",
    )
    assert [p for p, _, _ in found] == [
        f"hdfs://nn:8020/app-logs/alice/bucket-tf/0034/{APP_ID}",
        f"hdfs://nn:8020/app-logs/alice/tf/{APP_ID}",
        f"hdfs://nn:8020/app-logs/alice/bucket-agg/0034/{APP_ID}",
        f"hdfs://nn:8020/app-logs/alice/agg/{APP_ID}",
    ]


def test_per_format_root() -> None:
    found = paths({"yarn.log-aggregation.TFile.remote-app-log-dir": "/tfile-logs"})
    assert found[0][0] == f"/tfile-logs/root/bucket-logs-tfile/0034/{APP_ID}"


def test_older_layout_can_be_left_out() -> None:
    found = paths({"yarn.nodemanager.remote-app-log-dir-include-older": "false"})
    assert [p for p, _, _ in found] == [
        f"/tmp/logs/root/bucket-logs-tfile/0034/{APP_ID}",
        f"/tmp/logs/root/bucket-logs/0034/{APP_ID}",
    ]


def test_ifile_directories_are_listed_as_unreadable() -> None:
    found = paths(
        {
            "yarn.log-aggregation.file-formats": "IFile,TFile",
            "yarn.log-aggregation.file-controller.IFile.class": IFILE_CLASS,
        }
    )
    assert found[0] == (f"/tmp/logs/root/bucket-logs-ifile/0034/{APP_ID}", "IFile", False)
    assert (f"/tmp/logs/root/bucket-logs-tfile/0034/{APP_ID}", "TFile", True) in found


def test_unknown_controller_classes_are_unreadable() -> None:
    found = paths(
        {
            "yarn.log-aggregation.file-formats": "TFile",
            "yarn.log-aggregation.file-controller.TFile.class": "com.example.Mine",
        }
    )
    assert {(kind, readable) for _, kind, readable in found} == {
        ("TFile (com.example.Mine)", False)
    }


def test_log_aggregation_is_off_by_default() -> None:
    assert not is_log_aggregation_enabled(HadoopConfiguration())
    assert is_log_aggregation_enabled(HadoopConfiguration({"yarn.log-aggregation-enable": "true"}))


@pytest.mark.parametrize(
    ("name", "node"),
    [
        ("localhost_45410", "localhost:45410"),
        ("worker_3.example.com_8041_1700000000000", "worker_3.example.com:8041"),
        ("something-else", "something-else"),
    ],
)
def test_node_of(name: str, node: str) -> None:
    assert node_of(name) == node


@pytest.mark.parametrize(
    ("name", "expected"),
    [("localhost_45410", True), ("localhost_45410.tmp", False), ("n_1-checksum", False)],
)
def test_is_node_file(name: str, expected: bool) -> None:
    assert is_node_file(name) is expected
