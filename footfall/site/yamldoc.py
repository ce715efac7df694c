"""Read YAML while remembering the line and column of every node.

The text is composed into PyYAML's node tree once; plain Python data is constructed from it,
and the tree is walked to map each location (``("cameras", 2, "fps")``) to its place in the
file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from footfall.site.errors import Loc, Problem, format_path


@dataclass(frozen=True)
class Mark:
    """A place in the file, 1-based."""

    line: int
    column: int


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass
class YamlDocument:
    """Parsed data plus where each value (and each mapping key) sits in the file."""

    data: Any
    values: dict[Loc, Mark] = field(default_factory=dict)
    keys: dict[Loc, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Problems the YAML layer itself found (duplicate keys)."""

    def value_mark(self, loc: Loc) -> Mark | None:
        """Where the value at ``loc`` starts, or the nearest enclosing value's start."""
        loc = _normalise(loc)
        while loc not in self.values and loc:
            loc = loc[:-1]
        return self.values.get(loc)

    def key_mark(self, loc: Loc) -> Mark | None:
        """Where the mapping key of ``loc`` is, falling back to :meth:`value_mark`."""
        return self.keys.get(_normalise(loc)) or self.value_mark(loc)


def _normalise(loc: Loc) -> Loc:
    return tuple(p if isinstance(p, int) and not isinstance(p, bool) else str(p) for p in loc)


class YamlError(Exception):
    """The text is not usable YAML; ``mark`` is where the parser stopped, if known."""

    def __init__(self, message: str, mark: Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _walk(node: yaml.Node, loc: Loc, doc: YamlDocument, seen: set[int]) -> None:
    doc.values.setdefault(loc, _mark(node))
    if id(node) in seen:  # an alias to a node already walked (or a recursive structure)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            here = _mark(key_node)
            own = node.start_mark.index <= key_node.start_mark.index <= node.end_mark.index
            if key in first and own and key != "<<":
                doc.problems.append(
                    Problem(
                        None,
                        here.line,
                        here.column,
                        format_path((*loc, key)),
                        f"duplicate key '{key}' (first given at line {first[key].line}); "
                        "YAML keeps only the last one",
                        "remove one of them",
                        (*loc, key),
                    )
                )
            if own:
                first.setdefault(key, here)
            doc.keys[(*loc, key)] = here
            doc.values[(*loc, key)] = _mark(value_node)
            _walk(value_node, (*loc, key), doc, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), doc, seen)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; raises :class:`YamlError` with a one-sentence message."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark is not None else None
        parts = [p for p in (exc.context, exc.problem) if p]
        kind = (
            "YAML error"
            if isinstance(exc, yaml.constructor.ConstructorError)
            else "YAML syntax error"
        )
        raise YamlError(f"{kind}: " + ", ".join(parts), where) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}", None) from None
    finally:
        loader.dispose()
    doc = YamlDocument(data)
    if node is not None:
        _walk(node, (), doc, set())
    return doc
