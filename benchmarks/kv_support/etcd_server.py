"""A private single-member etcd on loopback, started and stopped by the benchmark.

Plaintext (no TLS), otherwise etcd's defaults (WAL fsync included), with its
data directory on tmpfs (``/dev/shm``) when there is one: Skein's store is in
memory only, so neither side pays for a disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType

TMPFS = "/dev/shm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def etcd_binary() -> str | None:
    return shutil.which("etcd") or next(
        (p for p in ("/usr/bin/etcd", "/usr/local/bin/etcd") if os.access(p, os.X_OK)), None
    )


def etcd_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].removeprefix("etcd Version: ").strip() if first else "unknown"


class LocalEtcd:
    """``with LocalEtcd(binary) as etcd:`` serves on ``etcd.host:etcd.port`` in the block."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.version = etcd_version(binary)
        self.host = "127.0.0.1"
        self.port = 0
        self.on_tmpfs = os.path.isdir(TMPFS) and os.access(TMPFS, os.W_OK)
        self.data_dir = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._root = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> LocalEtcd:
        self._root = tempfile.mkdtemp(
            prefix="skein-bench-etcd-", dir=TMPFS if self.on_tmpfs else None
        )
        self.data_dir = os.path.join(self._root, "data")
        self.port, peer = free_port(), free_port()
        client_url, peer_url = f"http://{self.host}:{self.port}", f"http://{self.host}:{peer}"
        command = [
            self.binary,
            "--name=bench",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=bench={peer_url}",
            "--initial-cluster-state=new",
            "--logger=zap",
            "--log-level=warn",
        ]
        log = open(os.path.join(self._root, "etcd.log"), "wb")
        try:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        try:
            self._wait_healthy(client_url)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_healthy(self, client_url: str, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"etcd exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{client_url}/health", timeout=2) as reply:
                    if b'"true"' in reply.read():
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"etcd not healthy after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError), open(os.path.join(self._root, "etcd.log")) as f:
            return "".join(f.readlines()[-lines:])
        return ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._root:
            shutil.rmtree(self._root, ignore_errors=True)
