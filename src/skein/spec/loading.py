"""Specification documents as text: choosing YAML or JSON, parsing and writing them.

Only text handling lives here; turning the parsed data into objects is
:mod:`skein.spec.conversion`'s job. PyYAML is imported on first use, so
reading JSON never needs it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal, TextIO

from skein.errors import SpecError

__all__ = ["Format", "dump_text", "infer_format", "parse_text"]

Format = Literal["yaml", "json"]

_EXTENSIONS: dict[str, Format] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def infer_format(path: str | os.PathLike[str], format: str = "infer") -> Format:
    """Return the document format to use for ``path``.

    Args:
        path: the file; its extension decides when ``format`` is ``"infer"``.
        format: ``"yaml"``, ``"json"`` or ``"infer"`` (any case).

    Raises:
        SpecError: ``format`` is unknown, or cannot be inferred from the extension.

    Example:
        >>> infer_format("spec.yml"), infer_format("spec.txt", "JSON")
        ('yaml', 'json')
    """
    chosen = format.lower()
    if chosen == "infer":
        extension = os.path.splitext(os.fspath(path))[1].lower()
        if extension not in _EXTENSIONS:
            raise SpecError(
                f"cannot infer the format of {os.fspath(path)!r} from its extension "
                "(.yaml, .yml or .json); pass format='yaml' or format='json'"
            )
        return _EXTENSIONS[extension]
    if chosen == "yaml":
        return "yaml"
    if chosen == "json":
        return "json"
    raise SpecError(f"unknown format {format!r}; expected 'yaml', 'json' or 'infer'")


def parse_text(text: str | bytes | TextIO, format: Format) -> object:
    """Parse a YAML or JSON document into plain data.

    Args:
        text: the document, or an open file (whose name YAML errors then show).
        format: ``"yaml"`` or ``"json"``.

    Raises:
        SpecError: the text does not parse; the message keeps the parser's line and column.
    """
    if format == "json":
        try:
            return json.loads(text if isinstance(text, str | bytes) else text.read())
        except ValueError as exc:
            raise SpecError(f"invalid JSON: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}") from None


def dump_text(data: Any, format: Format) -> str:
    """Write plain data as a YAML or JSON document.

    YAML keeps the fields in declaration order and writes multi-line strings
    (scripts) as ``|`` blocks, so the output reads like a hand-written spec.
    """
    if format == "json":
        return json.dumps(data)
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
        style = "|" if "\n" in text else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    Dumper.add_representer(str, represent_str)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False)
