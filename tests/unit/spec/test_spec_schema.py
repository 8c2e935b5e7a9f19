"""The published JSON Schema: generated from the declarations, and the committed copy current."""

from __future__ import annotations

import json
import pathlib
import re

from skein.spec import json_schema

PUBLISHED = pathlib.Path(__file__).parents[3] / "docs" / "spec.schema.json"


def test_published_schema_is_current() -> None:
    published = json.loads(PUBLISHED.read_text())
    assert published == json_schema(), (
        "docs/spec.schema.json is stale; regenerate it with "
        "`python -m skein.spec > docs/spec.schema.json`"
    )
    assert PUBLISHED.read_text() == json.dumps(json_schema(), indent=2) + "\n"


def test_schema_shape() -> None:
    schema = json_schema()
    definitions = schema["definitions"]
    assert isinstance(definitions, dict)
    assert sorted(definitions) == ["ACLs", "File", "Master", "Resources", "Security", "Service"]
    assert schema["additionalProperties"] is False
    service = definitions["Service"]
    assert service["required"] == ["resources"]
    assert service["allOf"] == [{"oneOf": [{"required": ["script"]}, {"required": ["commands"]}]}]
    assert service["properties"]["commands"]["items"] == {"type": "string"}
    assert service["properties"]["instances"] == {
        "type": "integer",
        "minimum": 0,
        "description": "Containers to start with.",
        "default": 1,
    }
    assert service["properties"]["files"]["additionalProperties"] == {
        "anyOf": [{"type": "string"}, {"$ref": "#/definitions/File"}]
    }
    assert definitions["Resources"]["required"] == ["memory", "vcores"]
    master = definitions["Master"]["properties"]
    assert master["resources"]["default"] == {"memory": 512, "vcores": 1, "gpus": 0, "fpgas": 0}
    assert {"info", "INFO"} <= set(master["log_level"]["enum"])


def test_memory_pattern_in_schema_is_an_anchored_regex() -> None:
    resources = json_schema()["definitions"]["Resources"]  # type: ignore[index]
    pattern = resources["properties"]["memory"]["anyOf"][1]["pattern"]
    assert re.fullmatch(pattern, "2 GiB")
    assert not re.fullmatch(pattern, "lots")
