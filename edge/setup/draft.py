"""The site file being set up: read as plain YAML (a camera may lack its homography yet), edited
by the page, and written only when ``footfall validate-config`` would accept it.

Relative file paths (camera sources, floor-plan images) are relative to the YAML file's folder;
when the result is written to another folder (``--out``) they are rewritten relative to it, so
the saved file points at the same footage. Comments of the original file are not kept.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from edge.detection_file import is_detection_file
from footfall.errors import UserError
from footfall.site.cli import summarise
from footfall.site.loader import check_site

HEADER = (
    "# Site configuration written by `footfall edge setup` (check it with\n"
    "# `footfall validate-config`). Floor coordinates are metres, image points pixels.\n"
)


class DraftError(UserError, ValueError):
    """The site file cannot be set up; ``str()`` names the problem and the fix."""


@dataclass(frozen=True)
class SaveResult:
    """What saving gave: ``ok`` and a one-line summary, or the problems (one text each)."""

    ok: bool
    file: str
    summary: str = ""
    problems: tuple[str, ...] = ()


def _is_uri(value: str) -> bool:
    return "://" in value and not value.startswith("file://")


def _rebase(value: Any, old_dir: Path, new_dir: Path) -> Any:
    """A relative path string taken from ``old_dir`` to the same file seen from ``new_dir``."""
    if not isinstance(value, str) or _is_uri(value):
        return value
    plain = value.removeprefix("file://")
    if Path(plain).expanduser().is_absolute():
        return value
    target = os.path.normpath(old_dir / plain)
    return os.path.relpath(target, new_dir)


def _rebase_paths(data: dict[str, Any], old_dir: Path, new_dir: Path) -> None:
    if old_dir == new_dir:
        return
    for camera in data.get("cameras") or []:
        if isinstance(camera, dict) and "source" in camera:
            camera["source"] = _rebase(camera["source"], old_dir, new_dir)
    for floor in data.get("floors") or []:
        plan = floor.get("plan") if isinstance(floor, dict) else None
        if isinstance(plan, dict) and "image" in plan:
            plan["image"] = _rebase(plan["image"], old_dir, new_dir)


class _SiteDumper(yaml.SafeDumper):
    """Mappings as blocks, lists of plain values (points, sizes) on one line."""


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, dict | list) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_SiteDumper.add_representer(list, _list)


def render(data: dict[str, Any]) -> str:
    """The site as YAML text: sections in their order, points as ``[x, y]``."""
    body = yaml.dump(data, Dumper=_SiteDumper, sort_keys=False, width=100, allow_unicode=True)
    return HEADER + body


class SiteDraft:
    """One site file open in the set-up page; :meth:`save` writes ``out`` when it is valid."""

    def __init__(self, site_file: Path, out: Path | None = None) -> None:
        self.site_file = Path(site_file)
        self.out = Path(out) if out is not None else self.site_file
        try:
            text = self.site_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DraftError(
                f"Site file {self.site_file} does not exist; give an existing site YAML with "
                "its site, floors and cameras (see configs/sites/)."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DraftError(f"Site file {self.site_file} cannot be read ({exc}).") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DraftError(
                f"Site file {self.site_file} is not valid YAML ({exc}); run footfall "
                "validate-config on it to see where."
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("floors"), list):
            raise DraftError(
                f"Site file {self.site_file} has no floors: list; a site file is a mapping with "
                "site, floors and cameras (see configs/sites/demo.yaml)."
            )
        if not self.out.parent.is_dir():
            raise DraftError(
                f"The folder of {self.out} does not exist; create it or choose another --out."
            )
        _rebase_paths(data, self.site_file.parent.absolute(), self.out.parent.absolute())
        data.setdefault("cameras", [])
        data.setdefault("zones", [])
        data.setdefault("lines", [])
        self.data: dict[str, Any] = data

    @property
    def folder(self) -> Path:
        """The folder relative paths in :attr:`data` are relative to."""
        return self.out.parent.absolute()

    def resolve(self, path: str) -> str:
        """A path or URI from :attr:`data` as the edge opens it."""
        if _is_uri(path):
            return path
        plain = Path(path.removeprefix("file://")).expanduser()
        return str(plain if plain.is_absolute() else self.folder / plain)

    def footage(self) -> list[str]:
        """The cameras' video files and image folders that are here (for INT8 calibration)."""
        found = []
        for camera in self.data.get("cameras") or []:
            source = camera.get("source") if isinstance(camera, dict) else None
            if not isinstance(source, str) or _is_uri(source):
                continue
            path = self.resolve(source)
            if Path(path).exists() and not is_detection_file(path):
                found.append(path)
        return sorted(set(found))

    def camera(self, camera_id: str) -> dict[str, Any]:
        """The raw camera entry with this id."""
        for camera in self.data.get("cameras") or []:
            if isinstance(camera, dict) and camera.get("id") == camera_id:
                return camera
        raise DraftError(f"There is no camera {camera_id!r} in {self.site_file}.")

    def floor(self, floor_id: str) -> dict[str, Any]:
        """The raw floor entry with this id."""
        for floor in self.data.get("floors") or []:
            if isinstance(floor, dict) and floor.get("id") == floor_id:
                return floor
        raise DraftError(f"There is no floor {floor_id!r} in {self.site_file}.")

    def save(self, data: dict[str, Any]) -> SaveResult:
        """Check ``data`` as footfall validate-config does; write it to ``out`` only if valid."""
        out = str(self.out)
        handle, temp = tempfile.mkstemp(
            prefix=f".{self.out.stem}.", suffix=".yaml", dir=self.folder
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(render(data))
            site, problems = check_site(temp)
            if problems or site is None:
                texts = tuple(
                    replace(p, file=out, line=None, column=None).format() for p in problems
                )
                return SaveResult(False, out, problems=texts or ("the site is not valid",))
            os.replace(temp, self.out)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        self.data = data
        return SaveResult(True, out, summary=summarise(site))
