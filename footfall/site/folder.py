"""The sites folder: where the cloud's processes find site configs without being told each file.

One folder of ``*.yaml`` site files (one site each; subfolders are not read): ``--sites-dir``,
else ``FOOTFALL_SITES_DIR``, else this checkout's ``configs/sites``, found from this file (never
from the current directory). :class:`SitesWatch` re-reads the folder, so a long-running process
(ingest, the API, the stitcher) picks up a site file added or changed after it started.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from footfall.errors import UserError
from footfall.site.loader import load_site
from footfall.site.site import Site

SITES_DIR_ENV: Final = "FOOTFALL_SITES_DIR"
CHECKOUT_SITES_DIR: Final = Path(__file__).resolve().parents[2] / "configs" / "sites"
"""The checkout's example sites (the default folder), wherever the command runs from."""
SUFFIXES: Final = (".yaml", ".yml")


class SitesFolderError(UserError):
    """The sites folder is missing or holds no usable site files."""


def sites_dir(explicit: str | Path | None = None) -> Path:
    """The option if given, else ``FOOTFALL_SITES_DIR``, else the checkout's ``configs/sites``;
    always an absolute path."""
    raw = explicit or os.environ.get(SITES_DIR_ENV) or None
    return Path(raw).expanduser().resolve() if raw else CHECKOUT_SITES_DIR


def site_files(folder: Path) -> list[Path]:
    """The site files of ``folder`` (``*.yaml``, ``*.yml``), by name."""
    if not folder.is_dir():
        raise SitesFolderError(
            f"sites folder {folder} does not exist; create it with your site files, or point "
            f"--sites-dir (or {SITES_DIR_ENV}) at the folder that holds them"
        )
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def check_unique(sites: Sequence[tuple[Path, Site]]) -> None:
    """Refuse two files that define one site id."""
    first: dict[str, Path] = {}
    for path, site in sites:
        if site.id in first:
            raise SitesFolderError(
                f"site id {site.id!r} is defined twice, in {first[site.id]} and {path}; give "
                "each site file its own site.id, or remove one"
            )
        first[site.id] = path


def load_sites(files: Iterable[str | Path] = (), folder: str | Path | None = None) -> list[Site]:
    """The sites of ``files`` if any are given, else every site file of the sites folder
    (``folder``, see :func:`sites_dir`); raises a :class:`~footfall.errors.UserError` naming the
    file and the fix."""
    paths = [Path(f) for f in files]
    if not paths:
        where = sites_dir(folder)
        paths = site_files(where)
        if not paths:
            raise SitesFolderError(
                f"sites folder {where} holds no site files (*.yaml); add one (see "
                f"{CHECKOUT_SITES_DIR / 'demo.yaml'}), or point --sites-dir (or "
                f"{SITES_DIR_ENV}) at the folder that holds them"
            )
    loaded = [(p, load_site(p)) for p in paths]
    check_unique(loaded)
    return [site for _, site in loaded]


@dataclass
class SitesWatch:
    """Sites from a fixed list of files, or from a folder re-read on every :meth:`changes`."""

    files: tuple[Path, ...] = ()
    folder: Path | None = None
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        if self.files:
            return list(self.files)
        assert self.folder is not None
        try:
            return site_files(self.folder)
        except SitesFolderError:
            return []  # gone for now: nothing new to read

    def forget(self, path: Path) -> None:
        """Report ``path`` again on the next :meth:`changes` (it could not be taken up now)."""
        self._seen.pop(path, None)

    def gone(self) -> list[Path]:
        """Files of the folder read before that are no longer there (each reported once).
        None while the folder itself is missing (gone for now, e.g. being replaced: its sites
        stay), and none for a fixed list of files (the process was given them)."""
        if self.files or self.folder is None or not self.folder.is_dir():
            return []
        present = set(self.paths())
        out = sorted(p for p in self._seen if p not in present)
        for path in out:
            del self._seen[path]
        return out

    def changes(self) -> tuple[list[tuple[Path, Site]], list[str]]:
        """Sites of the files added or modified since the last call (all of them the first
        time), and one sentence for each such file that does not load."""
        loaded: list[tuple[Path, Site]] = []
        problems: list[str] = []
        for path in self.paths():
            try:
                st = path.stat()
            except OSError:
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            if self._seen.get(path) == stamp:
                continue
            self._seen[path] = stamp
            try:
                loaded.append((path, load_site(path)))
            except UserError as exc:
                problems.append(str(exc).replace("\n", "; "))
        return loaded, problems
