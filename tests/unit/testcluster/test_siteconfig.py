"""Overrides of the test cluster's Hadoop configuration (pure logic)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skein.errors import TestClusterError
from skein.testcluster.siteconfig import apply_overrides, read_site_file, site_file_for_key

BASE = {
    "core-site.xml": {"fs.defaultFS": "hdfs://localhost:8020"},
    "hdfs-site.xml": {"dfs.replication": "1"},
    "yarn-site.xml": {"yarn.scheduler.minimum-allocation-mb": "128"},
    "capacity-scheduler.xml": {"yarn.scheduler.capacity.root.queues": "default"},
}


@pytest.mark.parametrize(
    ("key", "site"),
    [
        ("yarn.scheduler.capacity.root.queues", "capacity-scheduler.xml"),
        ("yarn.resourcemanager.am.max-attempts", "yarn-site.xml"),
        ("dfs.replication", "hdfs-site.xml"),
        ("hadoop.security.authentication", "core-site.xml"),
        ("fs.defaultFS", "core-site.xml"),
    ],
)
def test_keys_go_to_the_site_file_of_their_prefix(key: str, site: str) -> None:
    assert site_file_for_key(key) == site


def test_conf_pairs_override_and_add() -> None:
    merged = apply_overrides(
        BASE, ["yarn.scheduler.minimum-allocation-mb=64", "dfs.blocksize=1m", "x.y="]
    )
    assert merged["yarn-site.xml"]["yarn.scheduler.minimum-allocation-mb"] == "64"
    assert merged["hdfs-site.xml"]["dfs.blocksize"] == "1m"
    assert merged["core-site.xml"]["x.y"] == ""
    assert BASE["yarn-site.xml"]["yarn.scheduler.minimum-allocation-mb"] == "128"  # not mutated


def test_conf_pair_without_equals_is_rejected() -> None:
    with pytest.raises(TestClusterError, match=r"--conf 'dfs\.replication': expected KEY=VALUE"):
        apply_overrides(BASE, ["dfs.replication"])


def test_site_file_is_merged_into_the_file_of_the_same_name(tmp_path: Path) -> None:
    site = tmp_path / "yarn-site.xml"
    site.write_text(
        "<configuration><property><name>yarn.acl.enable</name><value> true </value></property>"
        "</configuration>"
    )
    merged = apply_overrides(BASE, ["yarn.acl.enable=false"], [site])
    # --conf pairs apply after site files, so they win.
    assert merged["yarn-site.xml"]["yarn.acl.enable"] == "false"
    assert apply_overrides(BASE, [], [site])["yarn-site.xml"]["yarn.acl.enable"] == "true"


def test_site_file_with_an_unknown_name_is_rejected(tmp_path: Path) -> None:
    site = tmp_path / "mapred-site.xml"
    site.write_text("<configuration/>")
    with pytest.raises(TestClusterError, match=r"mapred-site\.xml: the file name must be one of"):
        apply_overrides(BASE, [], [site])


def test_malformed_site_file_names_the_file(tmp_path: Path) -> None:
    site = tmp_path / "core-site.xml"
    site.write_text("<configuration><property>")
    with pytest.raises(TestClusterError, match=f"cannot read site file {re.escape(str(site))}"):
        read_site_file(site)
