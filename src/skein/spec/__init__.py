"""Application specifications: what to run on YARN, read from and written to YAML or JSON.

The classes and their keys are Skein 0.8's. Objects are immutable and checked
when built; an invalid specification raises :class:`~skein.errors.SpecError`
naming the field, e.g. ``services.worker.resources.memory``.

Example:
    >>> from skein.spec import ApplicationSpec, Resources, Service
    >>> spec = ApplicationSpec(
    ...     name="hello",
    ...     services={"hello": Service(resources=Resources(memory="128 MiB", vcores=1),
    ...                                script="echo hello")},
    ... )
    >>> ApplicationSpec.from_yaml(spec.to_yaml()) == spec
    True
"""

from __future__ import annotations

from skein.spec.model import (
    ACLs,
    ApplicationSpec,
    File,
    FileType,
    FileVisibility,
    LogLevel,
    Master,
    Resources,
    Service,
)
from skein.spec.schema import json_schema
from skein.spec.security import Security

__all__ = [
    "ACLs",
    "ApplicationSpec",
    "File",
    "FileType",
    "FileVisibility",
    "LogLevel",
    "Master",
    "Resources",
    "Security",
    "Service",
    "json_schema",
]
