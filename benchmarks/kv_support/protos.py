"""Compile the etcd API subset (``benchmarks/protos/etcd_subset``) for this run.

The generated modules go to a temporary directory put on ``sys.path`` (worker
processes started with ``spawn`` inherit it), never into the source tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent.parent / "protos"
PROTO_FILES = ("etcd_subset/kv.proto", "etcd_subset/rpc.proto")


def compile_etcd_protos(out_dir: str) -> None:
    """Generate ``etcd_subset.rpc_pb2`` and ``etcd_subset.rpc_grpc`` into ``out_dir``."""
    plugin = Path(sys.executable).with_name("protoc-gen-grpclib_python")
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out_dir}",
        f"--grpclib_python_out={out_dir}",
        *([f"--plugin=protoc-gen-grpclib_python={plugin}"] if plugin.exists() else []),
        *PROTO_FILES,
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
