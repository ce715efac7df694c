"""Shared building blocks for the site model: the strict base model and the field types.

Strictness: the models run in pydantic's *lax* mode so that YAML lists are accepted for
tuple-typed fields (strict mode only accepts Python tuples there, and only enum *instances* for
enum fields, which YAML cannot produce). Every scalar is made strict per field instead, so a
quoted ``"25"`` is never silently turned into the number 25, ``yes`` is never a number and a
number is never text. Integers are accepted where a float is expected.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, StringConstraints
from pydantic_core import PydanticCustomError

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""Every id: lowercase letters, digits, ``_`` and ``-``, starting with a letter or digit, ≤ 63."""


class SiteModel(BaseModel):
    """Base of every model in a site configuration: unknown keys are errors, floats are finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, serialize_by_alias=True)


def problem(message: str, fix: str = "", at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A validation error with a fix hint; ``at`` points below the field that raised it."""
    return PydanticCustomError(
        "footfall", "{message}", {"message": message, "fix": fix, "at": list(at)}
    )


def _pair_of(shape: str, example: str) -> Callable[[Any], Any]:
    """A before-validator accepting a YAML list of two items for a 2-tuple field."""

    def check(value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) == 2:
                return tuple(value)
            got = f"{len(value)} item" + ("" if len(value) == 1 else "s")
        else:
            got = describe(value)
        raise problem(
            f"must be a pair {shape} of two numbers (got {got})",
            f"write it as {shape}, for example {example}",
        )

    return check


def describe(value: Any) -> str:
    """Short human description of a YAML value for error messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item" + ("" if len(value) == 1 else "s")
    return type(value).__name__


def resolve_path(value: str, context: Any) -> str:
    """Resolve a relative file path against ``context['base_dir']`` (the YAML file's folder)."""
    base = context.get("base_dir") if isinstance(context, dict) else None
    path = Path(value).expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return os.path.normpath(path)


Slug = Annotated[str, StringConstraints(strict=True, pattern=SLUG_PATTERN)]
Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
Float = Annotated[float, Strict()]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Text = Annotated[str, Strict()]

FloorPoint = Annotated[tuple[Float, Float], BeforeValidator(_pair_of("[x, y]", "[12.5, 3.0]"))]
"""A point on a floor, ``[x, y]`` in metres (x along the width, y along the depth)."""

ImagePoint = Annotated[tuple[Float, Float], BeforeValidator(_pair_of("[u, v]", "[320, 410]"))]
"""A point in an image, ``[u, v]`` in pixels (u to the right, v downward, origin top-left)."""

ImageSize = Annotated[tuple[Int, Int], BeforeValidator(_pair_of("[width, height]", "[1920, 1080]"))]
"""An image size ``[width, height]`` in pixels."""
