"""The application master's runtime: one zip that a bare system ``python3`` can run.

YARN nodes need nothing installed: the client ships ``skein`` itself plus
protobuf's pure-Python implementation and the master's gRPC stack (grpclib,
h2, hpack, hyperframe, multidict and typing_extensions), all taken from the
client's installed packages, and the master container runs
``python3 -m skein.master`` with the zip on ``PYTHONPATH``. Their license
texts travel along under ``licenses/<distribution>/``. The zip is
deterministic (sorted entries, fixed timestamps and modes), so its SHA-256
names it in the staging cache and an unchanged client uploads nothing on the
next submission.

What is left out, and why:

* compiled extension modules (protobuf's ``upb`` backend, multidict's
  ``_multidict``): they match the client's Python, not the node's;
  ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python`` and
  ``MULTIDICT_NO_EXTENSIONS=1`` in the master's environment select the
  pure-Python code instead;
* grpclib's optional services and protoc plugin (channelz, health,
  reflection, plugin): the master does not use them;
* ``skein.testcluster`` and ``skein.testing``: test tooling, never run in a container;
* bytecode: Python compiles sources from a zip in memory at import.

``google`` is a namespace package, which zipimport cannot assemble, so the zip
carries an empty ``google/__init__.py``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

__all__ = ["RuntimeBundle", "build_runtime_bundle"]

_TIMESTAMP: Final = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
_EXCLUDED_PACKAGES: Final = frozenset({"testcluster", "testing"})

# The master's gRPC stack: each pure-Python package, with the subpackages left out.
_LIBRARIES: Final = {
    "grpclib": frozenset({"channelz", "health", "plugin", "reflection"}),
    "h2": frozenset(),
    "hpack": frozenset(),
    "hyperframe": frozenset(),
    "multidict": frozenset(),
}
_MODULES: Final = ("typing_extensions",)  # single-file modules

# Distributions whose code the zip carries, for their license texts.
_DISTRIBUTIONS: Final = ("protobuf", *_LIBRARIES, *_MODULES)
_LICENSE_MARKERS: Final = ("LICENSE", "LICENCE", "COPYING", "NOTICE")


@dataclass(frozen=True, slots=True)
class RuntimeBundle:
    """The master runtime zip, in memory.

    Attributes:
        data: the zip's bytes.
        digest: their SHA-256, as 64 hex digits.
        name: the file name to stage it under, e.g. ``skein-master-0.9.0.zip``.
    """

    data: bytes
    digest: str
    name: str


def _package_files(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    """Yield (name in the zip, file) for the ``.py`` sources under ``root``."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "__pycache__" in relative.parts:
            continue
        yield f"{prefix}/{relative.as_posix()}", path


def _skein_files() -> Iterator[tuple[str, Path]]:
    import skein

    root = Path(skein.__file__).parent
    for name, path in _package_files(root, "skein"):
        parts = name.split("/")
        if len(parts) > 2 and parts[1] in _EXCLUDED_PACKAGES:
            continue
        yield name, path


def _protobuf_files() -> Iterator[tuple[str, Path]]:
    import google.protobuf

    root = Path(google.protobuf.__file__).parent
    for name, path in _package_files(root, "google/protobuf"):
        # Protobuf's own tests and test data are dead weight in a container.
        if "/testdata/" in name or name.endswith("_test.py"):
            continue
        yield name, path


def _library_files() -> Iterator[tuple[str, Path]]:
    for package, excluded in _LIBRARIES.items():
        root = Path(importlib.import_module(package).__file__ or "").parent
        for name, path in _package_files(root, package):
            parts = name.split("/")
            if len(parts) > 2 and parts[1] in excluded:
                continue
            yield name, path
    for module in _MODULES:
        path = Path(importlib.import_module(module).__file__ or "")
        yield path.name, path


def _license_files() -> Iterator[tuple[str, Path]]:
    for distribution in _DISTRIBUTIONS:
        dist = metadata.distribution(distribution)
        for file in dist.files or ():
            if any(marker in file.name.upper() for marker in _LICENSE_MARKERS):
                yield f"licenses/{distribution}/{file.name}", Path(str(dist.locate_file(file)))


def _write_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_TIMESTAMP)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


@functools.cache
def build_runtime_bundle() -> RuntimeBundle:
    """Build (once per process) the zip that runs the application master.

    Example:
        >>> bundle = build_runtime_bundle()
        >>> bundle.name.startswith("skein-master-"), len(bundle.digest)
        (True, 64)
        >>> build_runtime_bundle() is bundle
        True
    """
    from skein import __version__

    entries = dict(_skein_files())
    entries.update(_protobuf_files())
    entries.update(_library_files())
    entries.update(_license_files())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write_entry(archive, "google/__init__.py", b"")
        for name in sorted(entries):
            _write_entry(archive, name, entries[name].read_bytes())
    data = buffer.getvalue()
    return RuntimeBundle(
        data=data,
        digest=hashlib.sha256(data).hexdigest(),
        name=f"skein-master-{__version__}.zip",
    )
