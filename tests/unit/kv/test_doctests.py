"""The examples in ``skein.kv``'s docstrings run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import skein.kv

_MODULES = sorted(
    ["skein.kv", *(f"skein.kv.{m.name}" for m in pkgutil.iter_modules(skein.kv.__path__))]
)


@pytest.mark.parametrize("name", _MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
