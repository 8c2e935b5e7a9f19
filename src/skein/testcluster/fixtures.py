"""Pytest fixtures for testing against the local cluster.

Load them with ``pytest_plugins = ["skein.testcluster.fixtures"]`` in a
``conftest.py``. The ``hadoop_cluster`` fixture brings the cluster up once per
test session, or reuses one that is already running, and points Hadoop clients
at it through the environment. ``SKEIN_HADOOP_VERSION`` and
``SKEIN_CLUSTER_NODES`` choose the Hadoop release and the number of NodeManagers.
A cluster the fixture started is stopped at the end of the session unless
``SKEIN_CLUSTER_KEEP=1``; one it found running is left.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION
from skein.testcluster.cluster import TestCluster

__all__ = ["hadoop_cluster"]


@pytest.fixture(scope="session")
def hadoop_cluster() -> Iterator[TestCluster]:
    """A running local HDFS + YARN cluster, with HADOOP_CONF_DIR pointing at it."""
    cluster = TestCluster()
    was_running = cluster.status().running
    nodes = int(os.environ.get("SKEIN_CLUSTER_NODES", "2"))
    version = os.environ.get("SKEIN_HADOOP_VERSION", DEFAULT_HADOOP_VERSION)
    cluster.up(nodes=nodes, hadoop_version=version)
    saved = {key: os.environ.get(key) for key in cluster.env()}
    os.environ.update(cluster.env())
    try:
        yield cluster
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not was_running and os.environ.get("SKEIN_CLUSTER_KEEP") != "1":
            cluster.down()
