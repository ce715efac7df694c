"""``validate-config``: check site files and report every problem with its file:line:column."""

from __future__ import annotations

from pathlib import Path

import click

from footfall.site.errors import summary_line
from footfall.site.loader import check_site
from footfall.site.site import Site


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summarise(site: Site) -> str:
    """One line about a valid site."""
    return (
        f"site '{site.site.id}' ({site.site.name}, {site.site.timezone}): "
        f"{_plural(len(site.floors), 'floor')}, {_plural(len(site.cameras), 'camera')}, "
        f"{_plural(len(site.zones), 'zone')}, {_plural(len(site.lines), 'line')}, "
        f"{_plural(len(site.topology.links), 'link')}, "
        f"{_plural(len(site.topology.overlaps), 'overlap')}"
    )


def validate_file(path: Path) -> bool:
    """Print the result for one file; True if it is valid."""
    file = str(path)
    try:
        site, problems = check_site(path)
    except Exception as exc:  # never show a traceback to the user
        click.echo(f"{file}: internal error while checking: {type(exc).__name__}: {exc}")
        click.echo(summary_line(1, file))
        return False
    if problems or site is None:
        for problem in problems:
            click.echo(problem.format())
        click.echo(summary_line(len(problems), file))
        return False
    click.echo(f"{file}: OK — {summarise(site)}")
    for camera in site.cameras:
        if "://" not in camera.source and not Path(camera.source).exists():
            click.echo(
                f"    note: camera '{camera.id}': its footage {camera.source} is not on this "
                "machine (fine where no edge node runs; the edge needs it)"
            )
    given = "counting" in site.model_fields_set
    click.echo(f"    counting: {site.counting.describe()}" + ("" if given else " (defaults)"))
    return True


@click.command("validate-config")
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...", type=click.Path(path_type=Path)
)
def validate_config(files: tuple[Path, ...]) -> None:
    """Check site configuration FILE(s): report every problem with file:line:column and a fix.

    A valid file's summary ends with its counting rules: the optional counting: section
    (line_hysteresis_m 0.3, min_visit_s 5, visit_gap_s 2, heatmap_cell_m 0.5 when left out).
    The cloud records them with the data they produce and refuses a config whose rules differ
    (footfall cloud recompute --adopt-rules changes them).

    Exits 0 when every file is valid, 1 otherwise.
    """
    results = [validate_file(path) for path in files]
    if not all(results):
        raise SystemExit(1)
