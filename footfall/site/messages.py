"""Turn pydantic validation errors into :class:`Problem` s a person can act on."""

from __future__ import annotations

import difflib
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from footfall.site.base import SLUG_PATTERN, describe
from footfall.site.errors import Loc, Problem


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts in YAML (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc``, if ``loc`` is a mapping."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if _is_model(tp) and isinstance(part, str):
            info = _field(tp, part)
            if info is None:
                return None
            tp = info.annotation
        elif isinstance(part, int) and get_origin(tp) in (list, tuple):
            args = get_args(tp)
            tp = args[part] if get_origin(tp) is tuple and part < len(args) else args[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if _is_model(tp) else None


def field_at(root: type[BaseModel], loc: Loc) -> FieldInfo | None:
    """The field definition for the value at ``loc`` (None for list items and unknown keys)."""
    if not loc or not isinstance(loc[-1], str):
        return None
    parent = model_at(root, loc[:-1])
    return None if parent is None else _field(parent, loc[-1])


def suggest(name: str, choices: list[str]) -> str | None:
    """The closest valid name for a typo: similar spelling, or the same letters reordered."""
    for choice in choices:
        if sorted(choice) == sorted(name) and choice != name:
            return choice
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.65)
    return close[0] if close else None


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def slugify(text: str) -> str:
    """A best-effort valid id for ``text``."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower()).strip("-_")
    return slug[:63] or "id-1"


def _looks_numeric(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


_COMPARE = {
    "greater_than": (">", "gt"),
    "greater_than_equal": ("≥", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("≤", "le"),
}

_TYPES = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _hint(root: type[BaseModel], loc: Loc) -> str:
    info = field_at(root, loc)
    return info.description or "" if info is not None else ""


def translate_error(error: ErrorDetails, root: type[BaseModel]) -> tuple[Problem, bool]:
    """One pydantic error → a Problem (without file position) and whether it points at a key.

    Missing fields point at the parent mapping; unknown keys at the key itself.
    """
    kind = error["type"]
    loc: Loc = tuple(error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    got = describe(value)
    hint = _hint(root, loc)

    if kind == "footfall":
        at = tuple(ctx.get("at") or ())
        return Problem.at((*loc, *at), str(ctx["message"]), str(ctx.get("fix", ""))), False

    if kind == "missing":
        parent, name = loc[:-1], loc[-1]
        if isinstance(name, int):
            return Problem.at(loc, f"missing item [{name}]", "give all items of the list"), False
        info = field_at(root, loc)
        fix = f"add '{name}:'"
        if info is not None and info.description:
            fix += f" — {info.description}"
        return Problem.at(parent, f"missing required field '{name}'", fix), False

    if kind == "extra_forbidden":
        parent_model = model_at(root, loc[:-1])
        name = str(loc[-1])
        valid = field_names(parent_model) if parent_model is not None else []
        close = suggest(name, valid)
        message = f"unknown field '{name}'"
        if close:
            message += f" — did you mean '{close}'?"
            fix = f"rename '{name}' to '{close}'"
        else:
            fix = f"remove '{name}'"
        if valid:
            fix += f"; valid fields here: {', '.join(valid)}"
        return Problem.at(loc, message, fix), True

    if kind in _COMPARE:
        symbol, key = _COMPARE[kind]
        message = f"must be {symbol} {_num(ctx.get(key))} (got {got})"
        return Problem.at(loc, message, hint), False

    if kind in ("enum", "literal_error"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"must be one of: {', '.join(choices)} (got {got})"
        nearest = suggest(str(value), choices)
        if nearest:
            message += f" — did you mean '{nearest}'?"
        return Problem.at(loc, message, f"use one of: {', '.join(choices)}"), False

    if kind == "string_pattern_mismatch" and ctx.get("pattern") == SLUG_PATTERN:
        message = (
            f"must be an id of lowercase letters, digits, '_' and '-', starting with a letter or "
            f"digit, at most 63 characters (got {got})"
        )
        fix = f"for example '{slugify(value)}'" if isinstance(value, str) else "use a slug"
        return Problem.at(loc, message, fix), False

    if kind in ("model_type", "dict_type", "model_attributes_type"):
        model = model_at(root, loc)
        fix = f"expected fields: {', '.join(field_names(model))}" if model else hint
        return Problem.at(loc, f"must be a mapping of fields (got {got})", fix), False

    if kind in _TYPES:
        fix = hint
        if isinstance(value, str) and re.fullmatch(r"[-+]?\d+[eE][-+]?\d+", value.strip()):
            fix = f"YAML reads {value!r} as text: give the mantissa a decimal point (1.0e+3)"
        elif kind.startswith(("float", "int")) and _looks_numeric(value):
            fix = "remove the quotes: numbers are written without quotes"
        elif kind == "string_type" and value is not None:
            fix = "put the value in quotes if it is meant as text"
        elif kind == "list_type" and value is None and loc:
            fix = f"write '{loc[-1]}: []' for none, or list '- ' entries under it"
        return Problem.at(loc, f"must be {_TYPES[kind]} (got {got})", fix), False

    if kind == "invalid_key":
        return Problem.at(loc[:-1], f"key {got} is not text", "write keys as names"), True

    if kind == "finite_number":
        return Problem.at(loc, f"must be a finite number (got {got})", hint), False

    if kind == "too_short":
        least = ctx.get("min_length")
        noun = "item" if least == 1 else "items"
        message = f"needs at least {least} {noun} (got {ctx.get('actual_length')})"
        return Problem.at(loc, message, hint), False

    if kind == "too_long":
        message = f"allows at most {ctx.get('max_length')} items (got {ctx.get('actual_length')})"
        return Problem.at(loc, message, hint), False

    if kind == "string_too_short":
        return Problem.at(loc, "must not be empty", hint), False

    if kind == "string_too_long":
        message = f"must be at most {ctx.get('max_length')} characters long"
        return Problem.at(loc, message, hint), False

    msg = str(error.get("msg", kind)).removeprefix("Value error, ")
    return Problem.at(loc, f"{msg[:1].lower()}{msg[1:]} (got {got})", hint), False


def translate_errors(
    errors: list[ErrorDetails], root: type[BaseModel]
) -> list[tuple[Problem, bool]]:
    """All errors of one validation; a missing field whose name is the did-you-mean of an
    unknown key in the same mapping (a typo) is reported once, as the unknown key."""
    typos: set[tuple[Loc, str]] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            loc = tuple(error["loc"])
            model = model_at(root, loc[:-1])
            close = None if model is None else suggest(str(loc[-1]), field_names(model))
            if close:
                typos.add((loc[:-1], close))
    out = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and loc and (loc[:-1], str(loc[-1])) in typos:
            continue
        out.append(translate_error(error, root))
    return out
