"""Several processes making the user's default credentials at once agree on one valid pair."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROCESSES = 8
ROUNDS = 3

# Waits for the start signal so that all processes race, then makes (or finds)
# the default pair, and checks at once that the key belongs to the certificate.
_CONTENDER = """
import hashlib, os, ssl, sys, time
from skein.spec.security import Security
ready, go = sys.argv[1], sys.argv[2]
open(os.path.join(ready, str(os.getpid())), "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.0005)
security = Security.from_default()
cert, key = security.cert_pem(), security.key_pem()
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(security.cert_file, security.key_file)  # raises on a mismatch
print(hashlib.sha256(cert).hexdigest(), hashlib.sha256(key).hexdigest())
"""


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_first_use_yields_one_pair(tmp_path: Path, round_: int) -> None:
    config, ready, go = tmp_path / "config", tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    env = {**os.environ, "SKEIN_CONFIG": str(config)}
    contenders = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, str(ready), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    # Start them together, once all have imported skein and are polling.
    deadline = time.monotonic() + 60
    while len(list(ready.iterdir())) < PROCESSES and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = []
    for contender in contenders:
        out, err = contender.communicate(timeout=120)
        assert contender.returncode == 0, err
        results.append(out.strip())
    assert len(set(results)) == 1, results
    files = sorted(path.name for path in config.iterdir())
    assert files == ["skein.crt", "skein.lock", "skein.pem"]
    assert oct(config.stat().st_mode & 0o777) == "0o700"
    for name in ("skein.crt", "skein.pem"):
        assert oct((config / name).stat().st_mode & 0o777) == "0o600"
