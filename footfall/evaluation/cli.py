"""``footfall eval MANIFEST``: accuracy reports from recorded footage with ground truth.

Imports only click at module level: the edge and cloud stacks load when the command runs, after
checking that their extras are installed.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

import click

from footfall.errors import Command
from footfall.extras import missing_extra_message, missing_modules


@click.command(name="eval", cls=Command)
@click.argument("manifest_file", metavar="MANIFEST", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: reports/eval/<manifest name>).",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where raw result files go (default: .run/eval/<manifest name>).",
)
@click.option(
    "--config",
    "config_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Edge config(s) to compare instead of the manifest's (repeatable).",
)
@click.option(
    "--sequence",
    "only",
    multiple=True,
    help="Only these sequences / crowd entries, by name (repeatable).",
)
@click.option("--max-frames", type=click.IntRange(1), help="Cap every sequence (a quick look).")
@click.option(
    "--end-to-end/--no-end-to-end",
    default=True,
    show_default=True,
    help="Run the manifest's end_to_end part (starts a local test stack).",
)
@click.option(
    "--database-url",
    help="Use this database for end to end (a scratch one) instead of starting a stack.",
)
@click.option("--bootstrap-servers", help="Broker for end to end, with --database-url.")
def eval_command(
    manifest_file: Path,
    out_dir: Path | None,
    work_dir: Path | None,
    config_files: tuple[Path, ...],
    only: tuple[str, ...],
    max_frames: int | None,
    end_to_end: bool,
    database_url: str | None,
    bootstrap_servers: str | None,
) -> None:
    """Replay the sequences of MANIFEST (configs/eval/*.yaml) through the edge pipeline and
    write an accuracy report: HOTA, IDF1, MOTA, precision, recall, id switches, fps; counting
    and dwell against the ground truth; crowd-count MAE/MAPE; end to end through the cloud API.
    """
    for extra in ("edge", "cloud"):
        missing = missing_modules(extra)
        if missing:
            message = missing_extra_message(extra, missing)
            raise click.ClickException(message.replace(f"`footfall {extra}`", "`footfall eval`"))
    if (database_url is None) != (bootstrap_servers is None):
        raise click.ClickException(
            "Give --database-url and --bootstrap-servers together (an existing stack), or "
            "neither (a local test stack is started)."
        )
    from footfall.evaluation.manifest import load_manifest
    from footfall.evaluation.report import write_report
    from footfall.evaluation.runner import run_manifest
    from footfall.evaluation.selection import narrow

    manifest = narrow(load_manifest(manifest_file), config_files, only, max_frames)
    out = out_dir or Path("reports") / "eval" / manifest.name
    work = work_dir or Path(".run") / "eval" / manifest.name
    command = _command(manifest_file, out_dir, config_files, only, max_frames, end_to_end)

    e2e = None
    if end_to_end and manifest.end_to_end is not None:
        from footfall.evaluation.end_to_end import EndToEndRunner

        e2e = EndToEndRunner(work / "end-to-end", database_url, bootstrap_servers)
    results = run_manifest(manifest, command=command, work_dir=work, end_to_end=e2e)
    results.environment["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    files = write_report(results, out)
    click.echo(f"report: {', '.join(str(f) for f in files)}")


def _command(
    manifest: Path,
    out_dir: Path | None,
    configs: tuple[Path, ...],
    only: tuple[str, ...],
    max_frames: int | None,
    end_to_end: bool,
) -> str:
    args = ["footfall", "eval", str(manifest)]
    if out_dir is not None:
        args += ["--out", str(out_dir)]
    for config in configs:
        args += ["--config", str(config)]
    for name in only:
        args += ["--sequence", name]
    if max_frames is not None:
        args += ["--max-frames", str(max_frames)]
    if not end_to_end:
        args.append("--no-end-to-end")
    return shlex.join(args)
