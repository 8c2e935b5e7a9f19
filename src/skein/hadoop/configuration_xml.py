"""Hadoop's configuration file format: ``<configuration>`` of ``<property>`` elements.

Parsing follows ``org.apache.hadoop.conf.Configuration``'s own parser:

* a property is given by child elements (``<name>``, ``<value>``, ``<final>``)
  or by attributes (``<property name="k" value="v" final="true"/>``);
* names are trimmed and values are not (the typed getters trim);
* an empty ``<value/>`` gives no value, so it does not override anything;
* ``final`` counts only when it is exactly ``true``;
* elements are matched by local name wherever they are nested, so
  ``xi:include`` works whatever its namespace prefix. Included files are
  resolved relative to the including file; if one is missing, the properties
  inside its ``xi:fallback`` are used, and without a fallback it is an error.

Classpath resources and URLs, which Java can also include, are not supported.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from skein.errors import SkeinConfigurationError

__all__ = ["DEPRECATED_KEYS", "ConfigProperty", "parse_configuration_file"]

# Old names Hadoop still accepts, for the keys skein reads: a file setting the
# old name sets the new one, and looking up the old name reads the new one.
DEPRECATED_KEYS: Final[Mapping[str, str]] = {
    "fs.default.name": "fs.defaultFS",
    "dfs.http.address": "dfs.namenode.http-address",
    "dfs.https.address": "dfs.namenode.https-address",
}

_MAX_INCLUDE_DEPTH: Final = 10


@dataclass(frozen=True, slots=True)
class ConfigProperty:
    """One ``<property>``: its name, its value (None if it had none) and its final flag."""

    name: str
    value: str | None
    final: bool


def _local_name(tag: object) -> str:
    # Hadoop matches element names without their namespace (xi:include is "include").
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _parse_property(element: ET.Element) -> ConfigProperty | None:
    name = element.get("name")
    value = element.get("value")
    final_ = element.get("final") == "true"
    for child in element:
        local = _local_name(child.tag)
        text = _text(child)
        if local == "name" and text:
            name = text.strip()
        elif local == "value" and text:
            value = text
        elif local == "final":
            final_ = text == "true"
    if not name:
        return None
    return ConfigProperty(DEPRECATED_KEYS.get(name, name), value, final_)


def _include(element: ET.Element, including: Path, depth: int) -> list[ConfigProperty]:
    href = element.get("href")
    if href is None:
        return []
    target = Path(href.removeprefix("file://") if href.startswith("file://") else href)
    if not target.is_absolute():
        target = including.parent / target
    if target.exists():
        return parse_configuration_file(target, depth + 1)
    fallbacks = [child for child in element if _local_name(child.tag) == "fallback"]
    if not fallbacks:
        raise SkeinConfigurationError(
            f"{including}: included file {href} does not exist and there is no xi:fallback"
        )
    found: list[ConfigProperty] = []
    for fallback in fallbacks:
        _walk(fallback, including, depth, found)
    return found


def _walk(element: ET.Element, path: Path, depth: int, found: list[ConfigProperty]) -> None:
    for child in element:
        local = _local_name(child.tag)
        if local == "property":
            prop = _parse_property(child)
            if prop is not None:
                found.append(prop)
        elif local == "include":
            found.extend(_include(child, path, depth))
        else:
            _walk(child, path, depth, found)


def parse_configuration_file(path: Path, depth: int = 0) -> list[ConfigProperty]:
    """Parse one Hadoop configuration file, following its includes.

    Args:
        path: the XML file.
        depth: how deeply this file is included (callers leave it at 0).

    Returns:
        The properties in document order, deprecated names already replaced.

    Raises:
        SkeinConfigurationError: the file cannot be read or is not well-formed
            XML (the message names the file, line and column), or an include is
            missing without a fallback.
    """
    if depth > _MAX_INCLUDE_DEPTH:
        raise SkeinConfigurationError(
            f"{path}: includes nested more than {_MAX_INCLUDE_DEPTH} deep"
        )
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        # The message names the line and column ("mismatched tag: line 3, column 2").
        raise SkeinConfigurationError(f"{path}: malformed XML: {exc}") from exc
    except OSError as exc:
        raise SkeinConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    found: list[ConfigProperty] = []
    _walk(root, path, depth, found)
    return found
