"""A real local Hadoop cluster (HDFS + YARN, separate daemons, no Docker) for tests and demos.

``skein-cluster up`` starts it; :class:`TestCluster` controls it from Python.
"""

from __future__ import annotations

from skein.testcluster.cluster import ClusterSettings, ClusterStatus, DaemonStatus, TestCluster

__all__ = ["ClusterSettings", "ClusterStatus", "DaemonStatus", "TestCluster"]
