"""Memory sizes as written in specifications (``2 GiB``, ``512``, ``1.5 GB``), in MiB.

YARN counts memory in whole MiB, so every size is rounded *up* to the next
MiB: asking for a little more than needed is harmless, a little less can get a
container killed. The rules follow Skein 0.8's, so its specifications read the
same:

- a bare number (``1024``, ``"1024"``, ``1.5``) is MiB;
- ``b`` is bytes; ``k``/``kb``, ``m``/``mb``, ``g``/``gb``, ``t``/``tb``,
  ``p``/``pb`` are powers of 1000 bytes; ``ki``/``kib`` ... ``pi``/``pib``
  are powers of 1024 bytes;
- units ignore case and may be separated from the number by spaces.

Unlike Skein 0.8, a unit without a number (``"MiB"``) is an error rather than 1.
Arithmetic is exact (fractions), so ``"0.1 GiB"`` is 103 MiB, not a float's guess.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Final

__all__ = ["MEMORY_EXAMPLE", "MEMORY_PATTERN", "parse_memory"]

#: Shown in error messages, and in the JSON schema, as what a size looks like.
MEMORY_EXAMPLE: Final = "2 GiB"

#: The strings :func:`parse_memory` accepts, as an ECMA-262 regex for JSON Schema
#: (which has no case-insensitive flag, hence the character classes).
MEMORY_PATTERN: Final = r"^\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*([bB]|[kKmMgGtTpP][iI]?[bB]?)?\s*$"

_MIB: Final = 2**20

_UNIT_BYTES: Final[dict[str, int]] = {
    "": _MIB,
    "b": 1,
    **{f"{prefix}{suffix}": 1000**power for power, prefix in enumerate("kmgtp", 1)
       for suffix in ("", "b")},
    **{f"{prefix}i{suffix}": 1024**power for power, prefix in enumerate("kmgtp", 1)
       for suffix in ("", "b")},
}  # fmt: skip

# A non-negative decimal number (with optional exponent), then an optional unit.
_SIZE: Final = re.compile(
    r"\s*(?P<number>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(?P<unit>[a-z]*)\s*", re.ASCII
)


def parse_memory(value: object) -> int:
    """Return a memory size in whole MiB, rounded up.

    Args:
        value: an ``int`` or ``float`` (MiB), or a string with an optional unit.

    Returns:
        The size in MiB (``0`` stays ``0``; callers decide whether that is allowed).

    Raises:
        ValueError: ``value`` is negative, not a number, or not a size with a known unit.
        TypeError: ``value`` is neither a number nor a string (``bool`` included).

    Example:
        >>> parse_memory("2 GiB"), parse_memory(512), parse_memory("1.5 GB"), parse_memory(1.2)
        (2048, 512, 1431, 2)
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a memory size like {MEMORY_EXAMPLE!r}, got {value!r}")
    if isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError(f"memory cannot be negative, got {value!r}")
        match = _SIZE.fullmatch(value.lower())
        if match is None or match["unit"] not in _UNIT_BYTES:
            raise ValueError(f"expected a memory size like {MEMORY_EXAMPLE!r}, got {value!r}")
        size = Fraction(match["number"]) * _UNIT_BYTES[match["unit"]]
    else:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite memory size, got {value!r}")
        if value < 0:
            raise ValueError(f"memory cannot be negative, got {value!r}")
        size = Fraction(value) * _MIB
    return math.ceil(size / _MIB)
