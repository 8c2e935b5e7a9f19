"""The one converter between plain data (from YAML or JSON) and the specification classes.

Theory of operation. A specification class is a frozen dataclass whose fields
carry their type and, in an ``Annotated`` :class:`Meta`, their documentation
and any extra rule. Everything here is driven by those declarations:

- :func:`from_data` builds an object from a mapping: it rejects unknown keys
  (suggesting the closest known one), reports missing required fields, treats
  ``null`` as "use the default", expands aliases, converts each value by its
  type hint and constructs the object;
- :func:`normalize`, called by every object after ``__init__``, converts the
  looser forms Python callers may pass (``"2 GiB"``, lists for sets, plain
  strings for files) the same way, so both routes give equal objects;
- :func:`to_data` turns an object back into plain dicts, lists and strings.

Values convert by type hint: nested specification classes (from a mapping, an
instance, or a bare value for a class with a ``shorthand`` field), enums (by
name, ignoring case), ``Mapping[str, X]`` (kept read-only), ``tuple[X, ...]``
and ``frozenset[X]`` (from lists, tuples or sets), ``X | None``, ``str``,
``int`` (never ``bool``), ``bool``, and ``bytes`` (from ``str`` too). A failure
anywhere raises :class:`~skein.errors.SpecError` whose path leads from the top
of the document to the bad value.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import inspect
import os
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from skein.errors import SpecError
from skein.spec.memory import parse_memory

__all__ = ["FieldInfo", "Meta", "document", "fields_of", "from_data", "normalize", "to_data"]

_T = TypeVar("_T")

# A URI scheme (RFC 3986) followed by ':'; anything else is a local path.
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclasses.dataclass(frozen=True, slots=True)
class Meta:
    """A specification field's documentation and extra rules, as ``Annotated`` metadata.

    Attributes:
        doc: one or two sentences for users; shown in ``help()`` and the JSON schema.
        minimum: the smallest value an ``int`` field accepts.
        memory: the field is a memory size in MiB, also written with units.
        local_path: a value without a URI scheme is a local path, made absolute
            against the specification file's folder (or the working directory).
        shorthand: a bare value of this field's type stands for a whole object,
            as a string does for a ``File``.
        secret: hidden in ``repr``.
        alias: another key accepted in mappings for this ``str`` field, holding
            a list of lines that are joined with newlines (``commands`` for ``script``).

    Example:
        ``instances: Annotated[int, Meta("Containers to start.", minimum=0)] = 1``
    """

    doc: str
    minimum: int | None = None
    memory: bool = False
    local_path: bool = False
    shorthand: bool = False
    secret: bool = False
    alias: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a specification class, as the converter and the schema see it.

    Attributes:
        name: the attribute and key name.
        hint: the type, without its ``Annotated`` wrapper.
        meta: its :class:`Meta`.
        required: whether it has no default.
        default: the default value (a fresh one for mutable defaults), or ``None``
            when ``required``.
    """

    name: str
    hint: object
    meta: Meta
    required: bool
    default: object


_FIELDS: dict[type, tuple[FieldInfo, ...]] = {}


def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """Return the fields of a specification class, in declaration order (cached).

    Raises:
        TypeError: a field lacks its ``Meta`` (a programming error, not a user's).
    """
    cached = _FIELDS.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        infos = []
        for field in dataclasses.fields(cls):
            hint, *extras = typing.get_args(hints[field.name]) or (None,)
            meta = next((extra for extra in extras if isinstance(extra, Meta)), None)
            if meta is None:
                raise TypeError(f"{cls.__qualname__}.{field.name} needs Annotated[..., Meta(...)]")
            if field.default is not dataclasses.MISSING:
                required, default = False, field.default
            elif field.default_factory is not dataclasses.MISSING:
                required, default = False, field.default_factory()
            else:
                required, default = True, None
            infos.append(FieldInfo(field.name, hint, meta, required, default))
        cached = _FIELDS[cls] = tuple(infos)
    return cached


def document(cls: type[_T]) -> type[_T]:
    """Class decorator appending an ``Attributes:`` section built from the fields' ``Meta``.

    The fields are declared once; ``help()`` still lists them.
    """
    entries = [
        textwrap.fill(
            f"{info.name}: {info.meta.doc}", 88, initial_indent="    ", subsequent_indent="        "
        )
        for info in fields_of(cls)
    ]
    summary = inspect.cleandoc(cls.__doc__ or "")
    cls.__doc__ = f"{summary}\n\nAttributes:\n" + "\n".join(entries) + "\n"
    return cls


def from_data(cls: type[_T], data: Mapping[object, object], base_dir: str | None = None) -> _T:
    """Build a specification object from a mapping of plain data.

    Args:
        cls: the specification class.
        data: its fields by name, as parsed from YAML or JSON.
        base_dir: the folder relative local paths are resolved against; the
            working directory when ``None``.

    Returns:
        The object.

    Raises:
        SpecError: a key is unknown or missing, or a value is invalid; the
            path is relative to ``data``.
    """
    infos = {info.name: info for info in fields_of(cls)}
    aliases = {info.meta.alias: info for info in infos.values() if info.meta.alias}
    values: dict[str, object] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise SpecError(f"field names must be strings, got {key!r}")
        if key in aliases:
            target = aliases[key]
            if data.get(target.name) is not None:
                raise SpecError(f"give either {target.name!r} or {key!r}, not both", (key,))
            with _within(key):
                lines = _convert(tuple[str, ...], value, target.meta, base_dir)
            values[target.name] = "\n".join(typing.cast(tuple[str, ...], lines))
        elif key not in infos:
            raise SpecError(_unknown_field(key, [*infos, *aliases]), (key,))
        elif value is not None or _is_optional(infos[key].hint):
            with _within(key):
                values[key] = _convert(infos[key].hint, value, infos[key].meta, base_dir)
    for info in infos.values():
        if info.required and info.name not in values:
            raise SpecError("required field is missing", (info.name,))
    return cls(**values)


def normalize(obj: object) -> None:
    """Convert an object's fields in place to their canonical forms; called after ``__init__``.

    Raises:
        SpecError: a value is invalid; the path is relative to ``obj``.
    """
    for info in fields_of(type(obj)):
        value = getattr(obj, info.name)
        with _within(info.name):
            converted = _convert(info.hint, value, info.meta, None)
        if converted is not value:
            # The objects are frozen; this runs inside their own construction.
            object.__setattr__(obj, info.name, converted)


def to_data(value: object, skip_nulls: bool = True) -> Any:
    """Return plain data (dicts, lists, strings, numbers, booleans) for a value.

    Args:
        value: a specification object, or anything one holds.
        skip_nulls: leave out fields whose value is ``None``.

    Returns:
        Data that ``json.dumps`` and ``yaml.safe_dump`` accept and :func:`from_data`
        reads back into an equal object. (``Any`` because its shape follows ``value``.)
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            info.name: to_data(getattr(value, info.name), skip_nulls)
            for info in fields_of(type(value))
            if not (skip_nulls and getattr(value, info.name) is None)
        }
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        return {key: to_data(item, skip_nulls) for key, item in value.items()}
    if isinstance(value, frozenset):
        return sorted(to_data(item, skip_nulls) for item in value)
    if isinstance(value, tuple):
        return [to_data(item, skip_nulls) for item in value]
    if isinstance(value, bytes):
        return value.decode()
    return value


@contextmanager
def _within(part: str | int) -> Iterator[None]:
    # Each level of nesting adds its key on the way out, so an error raised
    # deep inside carries the whole path without passing paths around.
    try:
        yield
    except SpecError as exc:
        raise SpecError(exc.reason, (part, *exc.parts)) from exc.__cause__


def _unknown_field(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"unknown field (did you mean {close[0]!r}?)"
    return "unknown field; expected one of: " + ", ".join(sorted(known))


def _is_optional(hint: object) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(hint)
    )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(hint: object, value: object, meta: Meta, base_dir: str | None) -> object:
    if _is_optional(hint):
        if value is None:
            return None
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Mapping:
        return _convert_mapping(args[1], value, meta, base_dir)
    if origin is tuple or origin is frozenset:
        return _convert_collection(origin, args[0], value, meta, base_dir)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _convert_object(hint, value, base_dir)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _convert_enum(hint, value)
    if meta.memory:
        return _convert_memory(value, meta)
    convert = _SCALARS.get(hint)
    if convert is None:
        raise TypeError(f"no conversion to {hint!r}")
    result = convert(value)
    if meta.minimum is not None and isinstance(result, int) and result < meta.minimum:
        raise SpecError(f"must be at least {meta.minimum}, got {result}")
    if meta.local_path and isinstance(result, str):
        return _absolute(result, base_dir)
    return result


def _convert_mapping(item: object, value: object, meta: Meta, base_dir: str | None) -> object:
    if not isinstance(value, Mapping):
        raise SpecError(f"expected a mapping, got {_show(value)}")
    result = {}
    for key, element in value.items():
        if not isinstance(key, str):
            raise SpecError(f"keys must be strings, got {key!r}")
        with _within(key):
            result[key] = _convert(item, element, meta, base_dir)
    # Read-only, so a frozen specification cannot be changed through its mappings.
    return types.MappingProxyType(result)


def _convert_collection(
    origin: object, item: object, value: object, meta: Meta, base_dir: str | None
) -> object:
    # A lone string is a common slip (`nodes: host1`); do not split it into characters.
    if not isinstance(value, list | tuple | set | frozenset):
        raise SpecError(f"expected a list, got {_show(value)}")
    items = []
    for index, element in enumerate(value):
        with _within(index):
            items.append(_convert(item, element, meta, base_dir))
    return tuple(items) if origin is tuple else frozenset(items)


def _convert_object(cls: type, value: object, base_dir: str | None) -> object:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return from_data(cls, value, base_dir)
    shorthand = next((info for info in fields_of(cls) if info.meta.shorthand), None)
    if shorthand is not None and not isinstance(value, list | tuple | set | frozenset):
        return from_data(cls, {shorthand.name: value}, base_dir)
    raise SpecError(f"expected a mapping of {cls.__name__} fields, got {_show(value)}")


def _convert_enum(cls: type[enum.Enum], value: object) -> object:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    choices = ", ".join(member.name for member in cls)
    raise SpecError(f"expected one of {choices}, got {_show(value)}")


def _convert_memory(value: object, meta: Meta) -> int:
    try:
        mib = parse_memory(value)
    except (TypeError, ValueError) as exc:
        raise SpecError(str(exc)) from None
    if meta.minimum is not None and mib < meta.minimum:
        raise SpecError(f"must be at least {meta.minimum} MiB, got {_show(value)}")
    return mib


def _absolute(path: str, base_dir: str | None) -> str:
    if not path or _SCHEME.match(path) or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base_dir or os.getcwd(), path))


def _expect(kind: type, noun: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        # bool is an int subclass, but `instances: true` is a mistake, not 1.
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise SpecError(f"expected {noun}, got {_show(value)}")

    return check


def _to_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise SpecError(f"expected text or bytes, got {_show(value)}")


_SCALARS: Final[dict[object, Callable[[object], object]]] = {
    str: _expect(str, "a string"),
    int: _expect(int, "an integer"),
    bool: _expect(bool, "true or false"),
    bytes: _to_bytes,
}
