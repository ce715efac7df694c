"""Privacy: no field of the wire contract can carry pixels.

Walks every generated JSON schema and checks that there are no binary/encoded-content
strings, every string is length-bounded (or a fixed constant/enum), every array has
maxItems, every number is bounded, and no object accepts additional properties.
"""

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from footfall.contract import MESSAGE_TYPES, TrackObservation
from footfall.contract.schemas import generate_schemas

MAX_STRING_LENGTH = 256


def privacy_violations(node: Any, path: str = "$") -> list[str]:
    """Every place in a JSON schema where a field could carry pixels or unbounded data."""
    found: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            found += privacy_violations(item, f"{path}[{i}]")
        return found
    if not isinstance(node, dict):
        return found

    if "contentEncoding" in node or "contentMediaType" in node:
        found.append(f"{path}: has contentEncoding/contentMediaType")
    if node.get("format") in {"binary", "base64", "byte"}:
        found.append(f"{path}: format {node['format']}")
    fixed = "const" in node or "enum" in node
    schema_type = node.get("type")
    types_ = schema_type if isinstance(schema_type, list) else [schema_type]
    if "string" in types_ and not fixed:
        max_length = node.get("maxLength")
        if not isinstance(max_length, int) or max_length > MAX_STRING_LENGTH:
            found.append(f"{path}: string without maxLength <= {MAX_STRING_LENGTH}")
    if "array" in types_ and not isinstance(node.get("maxItems"), int):
        found.append(f"{path}: array without maxItems")
    if ("number" in types_ or "integer" in types_) and not fixed:
        if "minimum" not in node and "exclusiveMinimum" not in node:
            found.append(f"{path}: number without a lower bound")
        if "maximum" not in node and "exclusiveMaximum" not in node:
            found.append(f"{path}: number without an upper bound")
    if "object" in types_ and node.get("additionalProperties") is not False:
        found.append(f"{path}: object without additionalProperties: false")
    if node.get("patternProperties") or node.get("unevaluatedProperties") not in (None, False):
        found.append(f"{path}: open-ended properties")

    for key, value in node.items():
        if key in {"const", "enum", "default", "examples"}:
            continue  # values, not subschemas
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                found += privacy_violations(sub, f"{path}.properties.{name}")
        else:
            found += privacy_violations(value, f"{path}.{key}")
    return found


SCHEMAS = generate_schemas()


def test_every_kind_and_the_union_have_a_schema() -> None:
    assert set(SCHEMAS) == {
        "frame.v1.json",
        "tracklet_start.v1.json",
        "tracklet_end.v1.json",
        "heartbeat.v1.json",
        "message.v1.json",
    }


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_no_field_can_carry_pixels(name: str) -> None:
    violations = privacy_violations(SCHEMAS[name])
    assert violations == [], f"{name}:\n" + "\n".join(violations)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_walk_reaches_every_object(name: str) -> None:
    """The walk must actually see the message objects (and, for frames, the track objects)."""
    objects: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object":
                objects.append(str(node.get("title")))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(SCHEMAS[name])
    assert objects, "no object schemas found"
    if name in {"frame.v1.json", "message.v1.json"}:
        assert "TrackObservation" in objects


def test_the_walker_catches_violations() -> None:
    """Make sure the walk can fail: a schema with every kind of hole is reported."""
    leaky = {
        "type": "object",
        "properties": {
            "image": {"type": "string", "contentEncoding": "base64"},
            "blob": {"type": "string", "format": "binary", "maxLength": 10},
            "note": {"type": "string"},
            "long_note": {"type": "string", "maxLength": 100_000},
            "pixels": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "nested": {"type": "object", "additionalProperties": True},
            "maybe": {"anyOf": [{"type": "string", "maxLength": 8}, {"type": "number"}]},
        },
    }
    text = "\n".join(privacy_violations(leaky))
    assert "$: object without additionalProperties" in text
    assert ".image: has contentEncoding" in text
    assert ".blob: format binary" in text
    assert ".note: string without maxLength" in text
    assert ".long_note: string without maxLength" in text
    assert ".pixels: array without maxItems" in text
    assert ".pixels.items: number without an upper bound" in text
    assert ".nested: object without additionalProperties" in text
    assert ".maybe.anyOf[1]: number without a lower bound" in text


def _annotation_mentions_bytes(annotation: Any) -> bool:
    if annotation in (bytes, bytearray, memoryview):
        return True
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or args:
        return any(_annotation_mentions_bytes(arg) for arg in args)
    return False


@pytest.mark.parametrize("model", [*MESSAGE_TYPES.values(), TrackObservation])
def test_no_bytes_fields(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert not _annotation_mentions_bytes(field.annotation), f"{model.__name__}.{name}"


def test_bytes_detector_can_fail() -> None:
    assert _annotation_mentions_bytes(bytes | None)
    assert _annotation_mentions_bytes(tuple[int, bytes])
    assert not _annotation_mentions_bytes(tuple[float, ...] | None)
