"""Fixtures for the Hadoop tests: running Hadoop's own Java code for interop checks."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from skein.errors import TestClusterError
from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION, HadoopJars, fetch_hadoop

INTEROP_PROGRAM = Path(__file__).parents[2] / "fixtures" / "java" / "CredentialsInterop.java"


@dataclass(frozen=True)
class HadoopJava:
    """Runs ``CredentialsInterop.java`` with Hadoop's jars on the classpath."""

    java: str
    jars: HadoopJars

    def run(self, *args: str, stdin: str = "", env: Mapping[str, str] | None = None) -> list[str]:
        """Run one command and return its output lines; fail the test on an error."""
        result = subprocess.run(
            [self.java, "-cp", self.jars.classpath, str(INTEROP_PROGRAM), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            env=None if env is None else dict(env),
        )
        if result.returncode != 0:
            pytest.fail(f"CredentialsInterop {args[0]} failed:\n{result.stderr}")
        return result.stdout.splitlines()


@pytest.fixture(scope="session")
def hadoop_jars() -> HadoopJars:
    """Hadoop's jars (downloaded once); skips the test when they cannot be fetched."""
    try:
        return fetch_hadoop(DEFAULT_HADOOP_VERSION)
    except TestClusterError as exc:
        pytest.skip(f"Hadoop {DEFAULT_HADOOP_VERSION} jars unavailable: {exc}")


@pytest.fixture(scope="session")
def hadoop_java(hadoop_jars: HadoopJars) -> Callable[..., list[str]]:
    """``run(command, *args, stdin=..., env=...)`` for Hadoop's Java code; skips without java."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not on PATH")
    return HadoopJava(java, hadoop_jars).run
