"""A Skein application on the local test cluster, whose master serves the store under test."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from kv_support.sessions import Endpoint

SPEC = {
    "name": "bench-kv",
    "services": {
        "sleeper": {
            "resources": {"memory": 128, "vcores": 1},
            "script": "sleep 3600",
        }
    },
}


def cluster_running() -> tuple[bool, str]:
    """Whether the local test cluster runs; if it does, point Hadoop clients at it."""
    from skein.testcluster import TestCluster

    cluster = TestCluster(log=lambda _: None)
    if not cluster.status().running:
        return False, "the test cluster is not running (start it: .venv/bin/skein-cluster up)"
    os.environ.update(cluster.env())
    return True, ""


def master_pid(app_id: str) -> int | None:
    """The pid of ``app_id``'s master process (``python3 -m skein.master``) on this machine."""
    suffix = app_id.removeprefix("application_")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        command = b" ".join(argv).decode(errors="replace")
        name = os.path.basename(argv[0].decode(errors="replace"))
        if (
            name.startswith("python")
            and "skein.master" in command
            and f"container_{suffix}_01_000001" in cwd
        ):
            return int(proc.name)
    return None


class SkeinApplication:
    """``with SkeinApplication() as app:`` runs a one-service application until the block ends.

    Its master's store is reached through ``app.endpoint``; the application is
    killed at the end (the cluster is left as it was).
    """

    def __init__(self, client_mode: str = "stub") -> None:
        self.client_mode = client_mode
        self.app_id = ""
        self.address = ""
        self.pid: int | None = None
        self.endpoint: Endpoint | None = None
        self._client: Any = None

    def __enter__(self) -> SkeinApplication:
        import skein

        self._client = skein.Client()
        try:
            app = self._client.submit_and_connect(skein.ApplicationSpec.from_dict(SPEC))
            self.app_id, self.address = app.id, app.address
            security = app.security
            app.close()
            self.pid = master_pid(self.app_id)
            self.endpoint = Endpoint(
                system="skein",
                address=self.address,
                cert_pem=security.cert_pem(),
                key_pem=security.key_pem(),
                client=self.client_mode,
                app_id=self.app_id,
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is None:
            return
        try:
            if self.app_id:
                self._client.kill_application(self.app_id)
        finally:
            self._client.close()
            self._client = None
