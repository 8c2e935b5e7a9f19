"""Helpers for testing code that talks Hadoop IPC: a sans-IO server side."""
