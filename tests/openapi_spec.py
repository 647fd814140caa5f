"""Loading openapi.yaml for the tests, and turning its schemas into standalone JSON schemas."""

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


@cache
def load_spec() -> dict[str, Any]:
    """The parsed openapi.yaml (cached; callers must not mutate it)."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def component_schemas() -> dict[str, Any]:
    """The spec's `components/schemas`."""
    return load_spec()["components"]["schemas"]


def json_schema(name: str) -> dict[str, Any]:
    """A standalone JSON schema for a component, with every `$ref` resolved inline."""
    schemas = component_schemas()

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = node["$ref"].rsplit("/", 1)[-1]
                merged = {k: v for k, v in node.items() if k != "$ref"}
                return {**resolve(copy.deepcopy(schemas[target])), **resolve(merged)}
            return {k: resolve(v) for k, v in node.items() if k not in ("discriminator", "example")}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(copy.deepcopy(schemas[name]))
