"""skein.logs as a package: its exports and the examples in its docstrings."""

from __future__ import annotations

import doctest
import importlib
import types

import pytest

import skein.logs

MODULES = [
    "aggregated",
    "aggregated_format",
    "layout",
    "live",
    "model",
    "node_manager_web",
    "retrieval",
    "tfile",
]


def test_public_names() -> None:
    assert skein.logs.__all__ == sorted(skein.logs.__all__)
    for name in skein.logs.__all__:
        # The error classes live in the one tree of skein.errors.
        assert getattr(skein.logs, name).__module__ in {"skein.logs", "skein.errors"} or getattr(
            skein.logs, name
        ).__module__.startswith("skein.logs.")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module: types.ModuleType = importlib.import_module(f"skein.logs.{name}")
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
