"""Shared fixtures: the real local cluster comes from skein's own pytest plugin."""

pytest_plugins = ["skein.testcluster.fixtures"]
