"""The behaviour every specification class shares: construction checks, dict/JSON/YAML, repr.

Each class only declares its fields (see :mod:`skein.spec.conversion`) and,
where it has them, rules that involve more than one field (``_check``).
Text formats are :mod:`skein.spec.loading`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from skein.errors import SpecError
from skein.spec.conversion import fields_of, from_data, normalize, to_data
from skein.spec.loading import dump_text, parse_text

__all__ = ["SpecObject"]

_S = TypeVar("_S", bound="SpecObject")


class SpecObject:
    """Base of the specification classes: validation, conversions, equality-friendly repr."""

    __slots__ = ()

    def __post_init__(self) -> None:
        normalize(self)
        self._check()

    def _check(self) -> None:
        """Check the rules that involve several fields; raise ``SpecError`` on failure."""

    @classmethod
    def from_dict(cls: type[_S], data: object) -> _S:
        """Build an object from a dict, as parsed from YAML or JSON.

        Args:
            data: the fields by name; nested objects as dicts.

        Raises:
            SpecError: unknown or missing keys, or invalid values; the message
                and ``path`` name the field.

        Example:
            >>> from skein.spec import Resources
            >>> Resources.from_dict({"memory": "1 GiB", "vcores": 2})
            Resources(memory=1024, vcores=2)
        """
        if not isinstance(data, Mapping):
            raise SpecError(
                f"expected a mapping of {cls.__name__} fields, got {type(data).__name__}"
            )
        return from_data(cls, data)

    def to_dict(self, skip_nulls: bool = True) -> dict[str, object]:
        """Return the object as plain data that :meth:`from_dict` reads back.

        Args:
            skip_nulls: leave out fields whose value is ``None``.

        Example:
            >>> from skein.spec import Resources
            >>> Resources(memory="2 GiB", vcores=1).to_dict()
            {'memory': 2048, 'vcores': 1, 'gpus': 0, 'fpgas': 0}
        """
        return cast(dict[str, object], to_data(self, skip_nulls))

    @classmethod
    def from_json(cls: type[_S], text: str | bytes) -> _S:
        """Build an object from a JSON document.

        Raises:
            SpecError: the text is not JSON, or not a valid object.
        """
        return cls.from_dict(parse_text(text, "json"))

    def to_json(self, skip_nulls: bool = True) -> str:
        """Return the object as a JSON document (see :meth:`to_dict`)."""
        return dump_text(self.to_dict(skip_nulls), "json")

    @classmethod
    def from_yaml(cls: type[_S], text: str | bytes) -> _S:
        """Build an object from a YAML document.

        Raises:
            SpecError: the text is not YAML, or not a valid object.

        Example:
            >>> from skein.spec import Service
            >>> Service.from_yaml('''
            ... resources: {memory: 512 MiB, vcores: 1}
            ... commands:
            ...   - echo hello
            ...   - echo world
            ... ''').script
            'echo hello\\necho world'
        """
        return cls.from_dict(parse_text(text, "yaml"))

    def to_yaml(self, skip_nulls: bool = True) -> str:
        """Return the object as a YAML document, multi-line strings as ``|`` blocks."""
        return dump_text(self.to_dict(skip_nulls), "yaml")

    def __repr__(self) -> str:
        # Only what differs from the defaults, so a spec's repr stays readable.
        shown = []
        for info in fields_of(type(self)):
            value = getattr(self, info.name)
            if not info.required and value == info.default:
                continue
            text = "<hidden>" if info.meta.secret else _repr_value(value)
            shown.append(f"{info.name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mappings do not pickle, and frozen slotted dataclasses only
        # unpickle by default from Python 3.11; rebuilding through __init__ does both.
        values = {info.name: _thaw(getattr(self, info.name)) for info in fields_of(type(self))}
        return _rebuild, (type(self), values)


def _rebuild(cls: type[_S], values: dict[str, object]) -> _S:
    return cls(**values)


def _thaw(value: object) -> object:
    if isinstance(value, SpecObject):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _repr_value(value: object) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(map(repr, sorted(value, key=str))) + "}" if value else "set()"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {item!r}" for key, item in value.items()) + "}"
    return repr(value)
