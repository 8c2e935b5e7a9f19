"""The package's public surface, its examples, and its promise to do no I/O."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import types
from pathlib import Path

import pytest

import skein.kvstore

MODULES = sorted(m.name for m in pkgutil.iter_modules(skein.kvstore.__path__))

# The store is pure and synchronous: the master's event loop drives it.
FORBIDDEN = {"asyncio", "socket", "time", "threading", "grpclib", "google", "skein._proto"}


def test_modules_are_known() -> None:
    assert MODULES == [
        "conditions",
        "errors",
        "history",
        "key_index",
        "keys",
        "limits",
        "operations",
        "records",
        "store",
        "watch",
    ]


def test_all_is_sorted_and_complete() -> None:
    names = skein.kvstore.__all__
    # isort order: constants, then classes, then functions.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
    for name in names:
        assert hasattr(skein.kvstore, name), name
    public = {
        name
        for module in MODULES
        for name in importlib.import_module(f"skein.kvstore.{module}").__all__
    }
    internal = {"History", "KeyIndex", "WatcherGroup", "check_key", "check_value", "event_size"}
    internal |= {"EVENT_OVERHEAD_BYTES"}
    assert set(names) == public - internal


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_docstring_examples(name: str) -> None:
    module: types.ModuleType = importlib.import_module(
        "skein.kvstore" if name == "__init__" else f"skein.kvstore.{name}"
    )
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_no_io_imports(name: str) -> None:
    path = Path(skein.kvstore.__file__).parent / f"{name}.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = {
        module
        for module in imported
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{name}.py imports {bad}"
    assert all(m.startswith(("skein.kvstore", "skein.errors")) for m in imported if "skein" in m)
