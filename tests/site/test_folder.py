"""The sites folder: found without the current directory, read again for files added later."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from footfall.site import load_site
from footfall.site.folder import CHECKOUT_SITES_DIR, SitesFolderError, SitesWatch, load_sites

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "sites" / "demo.yaml"


def test_the_default_folder_is_the_checkouts_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_SITES_DIR", raising=False)
    assert CHECKOUT_SITES_DIR == REPO / "configs" / "sites"
    ids = sorted(s.id for s in load_sites())
    assert ids == sorted(load_site(p).id for p in CHECKOUT_SITES_DIR.glob("*.yaml"))
    assert "demo" in ids and "riverside-mall" in ids


def test_two_files_with_one_site_id_are_refused(tmp_path: Path) -> None:
    shutil.copy(DEMO, tmp_path / "a.yaml")
    shutil.copy(DEMO, tmp_path / "b.yaml")
    with pytest.raises(SitesFolderError, match="site id 'demo' is defined twice, in "):
        load_sites(folder=tmp_path)


def test_the_watch_reports_files_added_or_changed_later_and_skips_bad_ones(
    tmp_path: Path,
) -> None:
    watch = SitesWatch(folder=tmp_path)
    assert watch.changes() == ([], [])
    shutil.copy(DEMO, tmp_path / "demo.yaml")
    (tmp_path / "notes.txt").write_text("not a site")
    loaded, problems = watch.changes()
    assert [(p.name, s.id) for p, s in loaded] == [("demo.yaml", "demo")] and problems == []
    assert watch.changes() == ([], [])  # nothing new
    (tmp_path / "bad.yaml").write_text("site: {id: x}\n")
    loaded, problems = watch.changes()
    assert loaded == [] and len(problems) == 1 and "bad.yaml" in problems[0]
    text = DEMO.read_text().replace("name: Footfall demo site", "name: Renamed")
    (tmp_path / "demo.yaml").write_text(text)
    loaded, _ = watch.changes()
    assert [s.site.name for _, s in loaded] == ["Renamed"]


def test_the_watch_reports_a_removed_file_once_and_nothing_while_the_folder_is_missing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sites"
    folder.mkdir()
    shutil.copy(DEMO, folder / "demo.yaml")
    shutil.copy(DEMO, folder / "other.yaml")
    watch = SitesWatch(folder=folder)
    watch.changes()
    assert watch.gone() == []
    (folder / "other.yaml").unlink()
    assert watch.gone() == [folder / "other.yaml"]
    assert watch.gone() == []  # once
    shutil.copy(DEMO, folder / "other.yaml")  # back: read again as new
    assert [p.name for p, _ in watch.changes()[0]] == ["other.yaml"]
    moved = tmp_path / "moved"
    folder.rename(moved)  # the folder itself gone for now: its sites stay
    assert watch.gone() == []
    moved.rename(folder)
    assert watch.gone() == [] and watch.changes() == ([], [])
    fixed = SitesWatch(files=(folder / "demo.yaml",))
    fixed.changes()
    (folder / "demo.yaml").unlink()
    assert fixed.gone() == []  # a file the process was given stays its site
