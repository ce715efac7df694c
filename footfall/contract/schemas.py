"""JSON-schema snapshots of the v1 wire messages.

One schema per message kind (``<kind>.v1.json``) and one for the whole ``Message`` union
(``message.v1.json``), generated from the pydantic models and committed under
``configs/schemas/`` so that changes to the wire contract show up in review.

    python -m footfall.contract.schemas --write [DIR]   # regenerate the snapshots
    python -m footfall.contract.schemas --check [DIR]   # exit 1 if any snapshot is stale

DIR defaults to ``configs/schemas`` in the repository root.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import TypeAdapter

from footfall.contract.messages import MESSAGE_TYPES, SCHEMA_VERSION, Message

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "REGENERATE_COMMAND",
    "check_schemas",
    "default_schema_dir",
    "generate_schemas",
    "main",
    "render_schema",
    "write_schemas",
]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
REGENERATE_COMMAND: Final = "python -m footfall.contract.schemas --write"
UNION_NAME: Final = "message"


def default_schema_dir() -> Path:
    """``configs/schemas`` in the repository that holds this package."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "footfall").is_dir():
            return parent / "configs" / "schemas"
    return Path.cwd() / "configs" / "schemas"


def _with_header(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"footfall/{name}.v{SCHEMA_VERSION}.json",
        **schema,
    }


def generate_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON schema, for every message kind and for the ``Message`` union."""
    schemas: dict[str, dict[str, Any]] = {}
    for kind, model in MESSAGE_TYPES.items():
        schemas[f"{kind}.v{SCHEMA_VERSION}.json"] = _with_header(model.model_json_schema(), kind)
    union = TypeAdapter(Message).json_schema()
    union = {"title": "Message", "description": "Any v1 footfall wire message.", **union}
    schemas[f"{UNION_NAME}.v{SCHEMA_VERSION}.json"] = _with_header(union, UNION_NAME)
    return schemas


def render_schema(schema: dict[str, Any]) -> str:
    """The snapshot text: sorted keys, indent 2, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every snapshot into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate_schemas().items():
        path = directory / name
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    return written


def check_schemas(directory: Path) -> list[str]:
    """One line per snapshot in ``directory`` that is missing or differs from the models."""
    problems = []
    for name, schema in generate_schemas().items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != render_schema(schema):
            problems.append(f"{path}: differs from the models")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--write [DIR]`` or ``--check [DIR]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m footfall.contract.schemas",
        description="Write or check the JSON-schema snapshots of the v1 wire messages.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the snapshots")
    mode.add_argument("--check", action="store_true", help="exit 1 if a snapshot is stale")
    parser.add_argument(
        "dir", nargs="?", type=Path, default=None, help="default: configs/schemas in the repo"
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir if args.dir is not None else default_schema_dir()
    if args.write:
        for path in write_schemas(directory):
            print(f"wrote {path}")
        return 0
    problems = check_schemas(directory)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        hint = REGENERATE_COMMAND if args.dir is None else f"{REGENERATE_COMMAND} {args.dir}"
        print(f"JSON-schema snapshots are stale; regenerate with: {hint}", file=sys.stderr)
        return 1
    print(f"JSON-schema snapshots in {directory} are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
