"""A JSON Schema of the specification format, generated from the classes' declarations.

Editors use it to complete and check specification files (for YAML, e.g. with
a ``# yaml-language-server: $schema=...`` comment). It is built from the same
field declarations the converter reads, so it cannot disagree with them; the
copy published as ``docs/spec.schema.json`` is checked against it by a test and
regenerated with ``python -m skein.spec > docs/spec.schema.json``.

The schema is draft-07, which editors support best. It cannot express every
rule (dependencies between services, for one); loading a file remains the
authority.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping

from skein.spec.conversion import FieldInfo, Meta, fields_of, to_data
from skein.spec.memory import MEMORY_EXAMPLE, MEMORY_PATTERN
from skein.spec.model import ApplicationSpec

__all__ = ["json_schema"]

_Schema = dict[str, object]


def json_schema() -> dict[str, object]:
    """Return the JSON Schema (draft-07) of an application specification document.

    Example:
        >>> schema = json_schema()
        >>> schema["properties"]["services"]["additionalProperties"]
        {'$ref': '#/definitions/Service'}
    """
    definitions: dict[str, _Schema] = {}
    root = _object_schema(ApplicationSpec, definitions)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Skein application specification",
        **root,
        "definitions": dict(sorted(definitions.items())),
    }


def _object_schema(cls: type, definitions: dict[str, _Schema]) -> _Schema:
    properties: dict[str, _Schema] = {}
    required: list[str] = []
    either: list[_Schema] = []
    for info in fields_of(cls):
        properties[info.name] = _field_schema(info, definitions)
        alias = info.meta.alias
        if alias:
            properties[alias] = {
                "type": "array",
                "items": {"type": "string"},
                "description": f"The {info.name} as a list of lines, joined with newlines "
                f"(give either {info.name!r} or {alias!r}).",
            }
        if info.required and alias:
            either.append({"oneOf": [{"required": [info.name]}, {"required": [alias]}]})
        elif info.required:
            required.append(info.name)
    schema: _Schema = {
        "type": "object",
        "description": _summary(cls),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    if either:
        schema["allOf"] = either
    return schema


def _field_schema(info: FieldInfo, definitions: dict[str, _Schema]) -> _Schema:
    schema = {**_value_schema(info.hint, info.meta, definitions), "description": info.meta.doc}
    if not info.required:
        schema["default"] = to_data(info.default)
    return schema


def _value_schema(hint: object, meta: Meta, definitions: dict[str, _Schema]) -> _Schema:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_value_schema(arg, meta, definitions) for arg in args if arg is not type(None)]
        return {"anyOf": [*options, {"type": "null"}]}
    if origin is Mapping:
        return {"type": "object", "additionalProperties": _value_schema(args[1], meta, definitions)}
    if origin is tuple or origin is frozenset:
        schema: _Schema = {"type": "array", "items": _value_schema(args[0], meta, definitions)}
        if origin is frozenset:
            schema["uniqueItems"] = True
        return schema
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _reference(hint, definitions)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        names = [member.name for member in hint]
        # Loading ignores case; listing both common spellings keeps editors quiet.
        return {"type": "string", "enum": names + [name.lower() for name in names]}
    if meta.memory:
        return {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": MEMORY_PATTERN},
            ],
            "examples": [MEMORY_EXAMPLE, 1024],
        }
    if hint is int:
        return (
            {"type": "integer"}
            if meta.minimum is None
            else {
                "type": "integer",
                "minimum": meta.minimum,
            }
        )
    if hint is bool:
        return {"type": "boolean"}
    if hint is str or hint is bytes:
        return {"type": "string"}
    raise TypeError(f"no JSON schema for {hint!r}")


def _reference(cls: type, definitions: dict[str, _Schema]) -> _Schema:
    name = cls.__name__
    if name not in definitions:
        definitions[name] = {}  # claimed first, in case a class ever refers to itself
        definitions[name] = _object_schema(cls, definitions)
    reference: _Schema = {"$ref": f"#/definitions/{name}"}
    shorthand = next((info for info in fields_of(cls) if info.meta.shorthand), None)
    if shorthand is None:
        return reference
    return {"anyOf": [_value_schema(shorthand.hint, shorthand.meta, definitions), reference]}


def _summary(cls: type) -> str:
    return (cls.__doc__ or "").strip().split("\n", 1)[0]
