"""Print the specification's JSON Schema: ``python -m skein.spec > docs/spec.schema.json``."""

from __future__ import annotations

import json

from skein.spec.schema import json_schema

print(json.dumps(json_schema(), indent=2))
