"""The one error the contract raises for a bad message, with a one-sentence reason.

The cloud stores ``str(ContractError)`` as the reason on the dead-letter topic, so it is a
single short, human-readable sentence that names the offending field, for example::

    tracklet_end.embedding: not L2-normalised (norm 3.2); normalise it before sending
"""

from collections.abc import Sequence
from typing import Any, Final

from pydantic import ValidationError

__all__ = ["MAX_REASON_CHARS", "ContractError"]

MAX_REASON_CHARS: Final = 300
"""``str(ContractError)`` is never longer than this."""

_KINDS: Final = ("frame", "tracklet_start", "tracklet_end", "heartbeat")


class ContractError(ValueError):
    """A message that does not satisfy the v1 wire contract.

    ``str(error)`` is one sentence: ``<kind>.<field path>: <problem>``, or
    ``message: <problem>`` when the problem is with the message as a whole. ``field`` is
    that path (``None`` for the whole message) and ``reason`` the problem part.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = _one_line(reason)
        self.field = field
        text = f"{field or 'message'}: {self.reason}"
        if len(text) > MAX_REASON_CHARS:
            text = text[: MAX_REASON_CHARS - 3].rstrip() + "..."
        super().__init__(text)

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> "ContractError":
        """Summarise a pydantic error as one sentence about its first problem."""
        problems = error.errors(include_url=False, include_input=False)
        if not problems:  # pragma: no cover - pydantic always reports at least one
            return cls("invalid message")
        first = problems[0]
        field, reason = _describe(first)
        more = len(problems) - 1
        if more:
            reason += f" (and {more} more problem{'s' if more > 1 else ''})"
        return cls(reason, field)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _path(loc: Sequence[int | str]) -> str | None:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or None


def _describe(problem: Any) -> tuple[str | None, str]:
    """(field path, reason) for one pydantic error dict."""
    kind: str = problem["type"]
    loc: tuple[int | str, ...] = tuple(problem["loc"])
    ctx: dict[str, Any] = problem.get("ctx") or {}
    msg: str = problem["msg"]
    field = _path(loc)
    last = loc[-1] if loc else None

    if kind == "json_invalid":
        return None, f"not valid JSON ({ctx.get('error', msg)})"
    if kind == "union_tag_not_found":
        return "kind", "missing; every message needs a 'kind' field"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", "?"))[:40]
        return "kind", f"unknown message kind {tag!r}; expected one of {', '.join(_KINDS)}"
    if kind in {"model_attributes_type", "model_type", "dict_type"} and len(loc) <= 1:
        return field, "not a JSON object; a message must be an object with a 'kind' field"
    if kind == "extra_forbidden":
        return field, "unknown field; v1 messages allow no extra fields"
    if kind == "missing" and isinstance(last, int):
        return _path(loc[:-1]), f"too few items (item [{last}] is missing)"
    if kind == "missing":
        return field, "required field is missing"
    if kind == "literal_error" and last == "schema_version":
        return field, "unsupported schema_version; this consumer understands only version 1"
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        return field, str(ctx["error"])
    if kind == "finite_number":
        return field, "must be a finite number (no NaN or infinity)"
    return field, msg[:1].lower() + msg[1:]
