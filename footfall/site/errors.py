"""Problems found in a site configuration, and the exception that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from footfall.errors import UserError

Loc = tuple[str | int, ...]
"""A location inside the configuration: mapping keys and list indices, outermost first."""


def format_path(loc: Loc) -> str:
    """Render a location the way a person reads it: ``cameras[2].homography.points[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a site configuration.

    ``line`` and ``column`` are 1-based and ``None`` when the problem is not tied to a place in the
    file (a missing file, for example). ``path`` is the dotted location inside the document
    (empty for the document as a whole); ``loc`` is the same location as a tuple.
    """

    file: str | None
    line: int | None
    column: int | None
    path: str
    message: str
    fix: str = ""
    loc: Loc = field(default=(), compare=False)

    @classmethod
    def at(cls, loc: Loc, message: str, fix: str = "") -> Problem:
        """A problem at ``loc`` whose file position is not known yet."""
        return cls(None, None, None, format_path(loc), message, fix, loc)

    def format(self) -> str:
        """``file:line:col: path: message`` plus an indented ``fix:`` line when there is a hint."""
        where = self.file or "<site>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def summary_line(count: int, file: str) -> str:
    """``N problems in FILE`` (singular for one)."""
    noun = "problem" if count == 1 else "problems"
    return f"{count} {noun} in {file}"


class SiteConfigError(UserError):
    """A site configuration could not be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[Problem], file: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        self.file = file
        lines = [p.format() for p in self.problems]
        lines.append(summary_line(len(self.problems), file or "site configuration"))
        super().__init__("\n".join(lines))
