"""The commands and options a README shows, for the documentation test
(``tests/test_readme_commands.py``). Parsed with markdown-it-py, the CommonMark parser.

Where commands are found:

- fenced code blocks (``bash``, ``console``, ``sh``, ``shell`` or unlabelled): every line whose
  first word is one of ``PROGRAMS``; a ``$ `` prompt is dropped, and the lines after a prompted
  command, up to the next prompt, are the output the README shows for it; ``\\`` at the end of a
  line continues it, ``#`` starts a comment;
- inline code spans whose first word is one of ``PROGRAMS``, followed by at least one more word
  (``footfall`` alone names the program, ``source`` alone a site field).

A command with a placeholder (``FILE``, ``[--opt]``, ``a|b``, ``…``) is a synopsis: it cannot run
as written, but its command and options can be checked. Options named alone in inline code
(``--max-frames N``) are collected with the command named in the heading of their section.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

PROGRAMS = ("footfall", "make", "python", "pip", "source")
SHELL_FENCES = ("", "bash", "console", "sh", "shell")
# A placeholder: an optional part, alternatives, an ellipsis, or an upper-case word (FILE,
# HOST:PORT, T, NS) standing for a value.
PLACEHOLDER = re.compile(r"(^|\s)\[|\||…|(^|\s)[A-Z][A-Z0-9_]*(:[A-Z]+)?(?=$|\s|\])")
OPTION = re.compile(r"(?<![\w-])--[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Shown:
    """One command as the README shows it."""

    text: str
    """The command, whitespace collapsed, without prompt or comment."""
    line: int
    """Its line in the README (1-based; for a span, the first line of its paragraph or cell)."""
    output: str | None = None
    """The output shown under a prompted command (``$ footfall …``), else None."""

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text)

    @property
    def is_synopsis(self) -> bool:
        return PLACEHOLDER.search(self.text) is not None

    @property
    def options(self) -> list[str]:
        """Every ``--option`` the command shows (in a synopsis too: ``[--fast|--realtime]``)."""
        return OPTION.findall(self.text)


@dataclass(frozen=True)
class OptionMention:
    """An option named alone in inline code (``--idle-exit-s``), in a section about a command."""

    option: str
    line: int
    command: str | None
    """The first command named in the section's heading (``footfall stack up|down|status``),
    or None when the heading names none."""


def _parse(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(markdown)


def _is_command(text: str) -> bool:
    words = text.split()
    return len(words) >= 2 and words[0] in PROGRAMS


def _fence_commands(token: Token) -> Iterator[Shown]:
    assert token.map is not None
    first = token.map[0] + 2  # the fence line is map[0] (0-based); content starts after it
    lines = token.content.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    i = 0
    while i < len(lines):
        start, text = i, lines[i]
        i += 1
        if prompted:
            if not text.startswith("$ "):
                continue
            text = text[2:]
        while text.rstrip().endswith("\\") and i < len(lines):
            text = text.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
        cut = text.find(" #")  # a comment
        command = " ".join((text[:cut] if cut >= 0 else text).split())
        if not _is_command(command):
            continue
        output = None
        if prompted:
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            output = "\n".join(shown).strip("\n") + "\n"
        yield Shown(command, first + start, output)


def shown_commands(markdown: str) -> list[Shown]:
    """Every command the README shows, in the order it shows them (repeats included)."""
    found: list[Shown] = []
    for token in _parse(markdown):
        if token.type == "fence" and token.info.strip() in SHELL_FENCES:
            found.extend(_fence_commands(token))
        elif token.type == "inline" and token.children:
            assert token.map is not None
            for child in token.children:
                text = " ".join(child.content.split())
                if child.type == "code_inline" and _is_command(text):
                    found.append(Shown(text, token.map[0] + 1))
    return found


def option_mentions(markdown: str) -> list[OptionMention]:
    """Every ``--option`` named alone in inline code, with its section's command."""
    found: list[OptionMention] = []
    command: str | None = None
    in_heading = False
    for token in _parse(markdown):
        if token.type in ("heading_open", "heading_close"):
            in_heading = token.type == "heading_open"
        elif token.type == "inline" and token.children:
            spans = [c.content for c in token.children if c.type == "code_inline"]
            if in_heading:
                command = next((s for s in spans if _is_command(s)), None)
                continue
            assert token.map is not None
            for span in spans:
                if span.startswith("--"):
                    found.extend(
                        OptionMention(o, token.map[0] + 1, command) for o in OPTION.findall(span)
                    )
    return found
