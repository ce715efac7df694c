"""Load a site YAML file: every problem found, each with its file:line:column."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from footfall.site.base import describe
from footfall.site.camera import Camera
from footfall.site.errors import Problem, SiteConfigError
from footfall.site.floor import Floor
from footfall.site.line import CountingLine
from footfall.site.messages import translate_errors
from footfall.site.site import Site
from footfall.site.topology import Link, Overlap
from footfall.site.verify import COLLECTIONS, SiteParts, verify_all
from footfall.site.yamldoc import YamlDocument, YamlError, parse_yaml
from footfall.site.zone import Zone

M = TypeVar("M", bound=BaseModel)


def _file_problem(file: str, message: str, fix: str = "", line: int | None = None) -> Problem:
    return Problem(file, line, None, "", message, fix)


def _read(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        problem = _file_problem(file, "file not found", "check the path and the file name")
    except IsADirectoryError:
        problem = _file_problem(file, "is a folder, not a file", "give the path of a .yaml file")
    except PermissionError:
        problem = _file_problem(file, "permission denied", "make the file readable")
    except UnicodeDecodeError as exc:
        problem = _file_problem(
            file, f"not UTF-8 text (bad byte at offset {exc.start})", "save the file as UTF-8"
        )
    except OSError as exc:
        problem = _file_problem(file, f"cannot be read ({exc.strerror or exc})")
    return None, [problem]


def _valid_items(raw: Any, model: type[M], context: dict[str, Any]) -> dict[int, M]:
    out: dict[int, M] = {}
    if not isinstance(raw, list):
        return out
    for index, item in enumerate(raw):
        try:
            out[index] = model.model_validate(item, context=context)
        except ValidationError:
            continue
    return out


def _partial_parts(data: dict[str, Any], context: dict[str, Any]) -> SiteParts:
    """Whatever validates on its own, so that cross checks run even when the site does not."""
    topology = data.get("topology")
    topology = topology if isinstance(topology, dict) else {}
    parts = SiteParts(
        floors=_valid_items(data.get("floors"), Floor, context),
        cameras=_valid_items(data.get("cameras"), Camera, context),
        zones=_valid_items(data.get("zones"), Zone, context),
        lines=_valid_items(data.get("lines"), CountingLine, context),
        links=_valid_items(topology.get("links"), Link, context),
        overlaps=_valid_items(topology.get("overlaps"), Overlap, context),
    )
    for collection in COLLECTIONS:
        raw = data.get(collection)
        items = raw if isinstance(raw, list) else []
        parts.ids[collection] = {
            i: item["id"]
            for i, item in enumerate(items)
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        }
    return parts


def _locate(problem: Problem, doc: YamlDocument, file: str, on_key: bool = False) -> Problem:
    mark = doc.key_mark(problem.loc) if on_key else doc.value_mark(problem.loc)
    return Problem(
        file,
        mark.line if mark else None,
        mark.column if mark else None,
        problem.path,
        problem.message,
        problem.fix,
        problem.loc,
    )


def _sort_key(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


def check_site(path: str | Path) -> tuple[Site | None, list[Problem]]:
    """Load and check a site file; returns the site (None if unusable) and every problem found.

    Never raises for problems in the file itself: unreadable files, YAML syntax errors, schema
    errors and cross-object (``verify_*``) errors all come back as problems, sorted by line.
    """
    file = str(path)
    path = Path(path)
    text, problems = _read(path, file)
    if text is None:
        return None, problems
    try:
        doc = parse_yaml(text)
    except YamlError as exc:
        line = exc.mark.line if exc.mark else None
        column = exc.mark.column if exc.mark else None
        fix = "check indentation, colons and quoting at or just before this position"
        return None, [Problem(file, line, column, "", exc.message, fix)]
    if doc.data is None:
        return None, [
            _file_problem(
                file,
                "file is empty",
                "a site file is a mapping with 'site', 'floors', 'cameras', 'zones', 'lines' "
                "and 'topology'",
            )
        ]
    if not isinstance(doc.data, dict):
        return None, [
            Problem(
                file,
                1,
                1,
                "",
                f"the top level must be a mapping of sections (got {describe(doc.data)})",
                "start the file with 'site:', 'floors:', 'cameras:' …",
            )
        ]
    found = [replace(p, file=file) for p in doc.problems]
    context: dict[str, Any] = {"base_dir": path.parent.absolute(), "defer_verify": True}
    site: Site | None = None
    try:
        site = Site.model_validate(doc.data, context=context)
    except ValidationError as exc:
        for problem, on_key in translate_errors(exc.errors(include_url=False), Site):
            found.append(_locate(problem, doc, file, on_key))
        cross = verify_all(_partial_parts(doc.data, context))
    else:
        site._source_file = path.absolute()
        cross = verify_all(site.parts())
    found.extend(_locate(p, doc, file) for p in cross)
    found.sort(key=_sort_key)
    return (site if not found else None), found


def load_site(path: str | Path) -> Site:
    """Load a site file; raises :class:`SiteConfigError` listing every problem found."""
    site, problems = check_site(path)
    if problems or site is None:
        raise SiteConfigError(problems, str(path))
    return site
