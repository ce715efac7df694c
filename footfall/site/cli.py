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
    (line_hysteresis_m 0.3, line_establish_s 0.5, min_visit_s 5, visit_gap_s 2, min_visitor_s 12,
    heatmap_cell_m 0.5 when left out).
    The cloud records them with the data they produce and refuses a config whose rules differ
    (footfall cloud recompute --adopt-rules changes them).

    Exits 0 when every file is valid, 1 otherwise.
    """
    results = [validate_file(path) for path in files]
    if not all(results):
        raise SystemExit(1)


@click.group("site")
def site_group() -> None:
    """Helpers for writing site configs."""


@site_group.command("from-calibration")
@click.argument("calibration", metavar="CALIBRATION.json", type=click.Path(path_type=Path))
@click.option("--view", required=True, help="The camera's key in the JSON file (e.g. View_001).")
@click.option("--id", "camera_id", required=True, help="Camera id in the site (a slug).")
@click.option("--floor", "floor_id", required=True, help="Id of the floor the camera looks at.")
@click.option("--source", required=True, help="Video file, detection file or stream URI.")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), required=True, help="Frames/s.")
@click.option(
    "--resolution", nargs=2, type=click.IntRange(16, 16384), required=True, help="WIDTH HEIGHT."
)
@click.option(
    "--unit-m",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Metres per world unit of R, t (0.001 for millimetres).",
)
@click.option(
    "--offset",
    nargs=2,
    type=float,
    default=(0.0, 0.0),
    show_default=True,
    help="X Y metres added to every floor position (to place the camera on the floor plan).",
)
@click.option(
    "--floor-size",
    nargs=2,
    type=click.FloatRange(min=0, min_open=True),
    help="WIDTH DEPTH of the floor in metres: keep only points on the floor plan.",
)
def from_calibration(
    calibration: Path,
    view: str,
    camera_id: str,
    floor_id: str,
    source: str,
    fps: float,
    resolution: tuple[int, int],
    unit_m: float,
    offset: tuple[float, float],
    floor_size: tuple[float, float] | None,
) -> None:
    """Print a site camera entry (YAML) from an OpenCV calibration: K, dist, R, t per view in a
    JSON file (R, t take world points into the camera frame; the floor is world z = 0).

    The homography's points are computed from the calibration (footfall/site/calibration.py);
    paste the entry under cameras: and check it with footfall validate-config.
    """
    import json

    import yaml

    from footfall.site.calibration import CalibrationError, OpenCvCalibration, camera_fields

    try:
        data = json.loads(calibration.read_text())
    except OSError as exc:
        raise click.ClickException(f"{calibration} cannot be read ({exc.strerror}).") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{calibration} is not JSON ({exc.msg}).") from None
    if not isinstance(data, dict) or view not in data:
        views = ", ".join(sorted(data)) if isinstance(data, dict) else "none"
        raise click.ClickException(f"{calibration} has no view {view!r}; views: {views}.")
    try:
        cal = OpenCvCalibration.of(data[view], view)
        fields = camera_fields(
            cal, resolution, unit_m=unit_m, offset_m=offset, floor_size_m=floor_size or None
        )
    except CalibrationError as exc:
        raise click.ClickException(str(exc)) from None
    entry = {
        "id": camera_id,
        "floor": floor_id,
        "source": source,
        "fps": fps,
        "resolution": list(resolution),
        **fields,
    }
    click.echo(f"# from {calibration} ({view}), unit_m {unit_m:g}, offset {list(offset)}")
    click.echo(yaml.safe_dump([entry], sort_keys=False, default_flow_style=None, width=100))
