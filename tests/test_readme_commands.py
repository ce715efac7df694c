"""The README's commands, run as written (issue 19): a command or option that drifts from the
README fails here.

Every command the README shows (``tests/support/readme_commands.py`` finds them: fenced shell
blocks and inline code starting with ``footfall``, ``make``, ``python``, ``pip`` or ``source``)
is one of:

- a synopsis (``footfall edge run --site FILE [--max-frames N]``): its command must exist and
  take every option shown;
- the bare name of a command that needs arguments (``footfall simulate``): it must exist;
- a command that can run as written: it is in ``RUN`` and runs here, against the test stack and
  bounded by the four rules of ``bounded()``, or it is in ``EXCLUDED`` with the reason. A README
  command in neither fails the test, and so does a table entry the README no longer shows.

Options named alone in a section (``--idle-exit-s``) must belong to the command of its heading,
and every ``make`` target shown must exist. Bad input to each command group is one sentence,
with no traceback.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from readme_commands import (
    OPTION,
    PLACEHOLDER,
    OptionMention,
    Shown,
    option_mentions,
    shown_commands,
)

from footfall.cli import main
from footfall.stack import StackProfile

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHOWN = shown_commands(README)
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
FOOTFALL = Path(sys.executable).parent / "footfall"


@dataclass(frozen=True)
class Run:
    """How a README command that runs here is judged (after ``bounded()``)."""

    stack: bool = False
    """It needs the database or the broker: an integration test on the test stack."""
    status: int = 0
    """The exit status the README says it ends with."""
    prints: str = ""
    """A piece of standard output the README promises."""
    data: bool = False
    """It reads ../shared/data (skipped where that is absent)."""
    instance: str = ""
    """For a synopsis: the command run, its placeholders filled in (only options it shows)."""


_CAMPUS = "../shared/data/mot15/TUD-Campus"
RUN: dict[str, Run] = {
    # The README shows its output, which must match line for line.
    "footfall validate-config configs/sites/broken/typo_key.yaml": Run(status=1),
    "footfall edge weights": Run(prints="verified"),
    "footfall stack up --profile test": Run(stack=True, prints="connection settings"),
    "footfall cloud migrate": Run(stack=True),
    "footfall cloud ingest": Run(stack=True),
    "footfall cloud stitch": Run(stack=True),
    "footfall cloud apikey create --site demo": Run(stack=True),
    "footfall simulate --scenario load --publish --start-hour 17 --duration-s 600 --json": Run(
        stack=True, prints='"messages":'
    ),
    "footfall simulate --scenario NAME --evaluate --json --in-process": Run(
        instance="footfall simulate --scenario smoke --evaluate --json --in-process",
        prints='"mtmc_idf1":',
    ),
    "python -m footfall.simulate.sitegen --wings 16": Run(prints="wrote"),
    "python -m footfall.simulate.sitegen": Run(prints="wrote"),
    "footfall eval configs/eval/all.yaml --config configs/edge/baseline.yaml --config "
    "configs/edge/osnet-eval.yaml --sequence TUD-Campus --no-end-to-end --out /tmp/compare": Run(
        data=True, prints="report:"
    ),
    # Synopses, each run as one instance.
    "footfall stack up|down|status": Run(
        stack=True, instance="footfall stack status --profile test", prints="up"
    ),
    "footfall validate-config FILE…": Run(
        instance="footfall validate-config configs/sites/demo.yaml "
        "configs/sites/two_floor_mall.yaml"
    ),
    "footfall edge run --site FILE --node NAME [--config FILE] [--camera ID …] "
    "[--sink kafka|jsonl|memory] [--bootstrap-servers HOST:PORT] [--spool-dir DIR] "
    "[--drain-timeout S] [--topic-namespace NS] [--out FILE] [--fast|--realtime] [--max-frames N] "
    "[--metrics-port PORT]": Run(
        data=True,
        instance="footfall edge run --site configs/sites/demo.yaml --node readme-node "
        "--camera tud-stadtmitte --sink jsonl --out messages.jsonl --fast --max-frames 3",
    ),
    "footfall edge replay VIDEO --camera ID --mot-out FILE [--site FILE] [--config FILE] "
    "[--gt GT] [--fps F] [--fast|--realtime] [--max-frames N] [--start-time T]": Run(
        data=True,
        prints="MOTA",
        instance=f"footfall edge replay {_CAMPUS}/TUD-Campus.mp4 --camera tud-campus --mot-out "
        f"result.txt --gt {_CAMPUS}/gt/gt.txt --fps 25 --fast --max-frames 3",
    ),
    "footfall edge annotate VIDEO --camera ID --out FILE [--head-fraction 0.2] …": Run(
        data=True,
        instance=f"footfall edge annotate {_CAMPUS}/TUD-Campus.mp4 --camera tud-campus "
        "--out annotated.mp4 --head-fraction 0.2",
    ),
    "footfall edge evaluate RESULT GT [RESULT GT …] [--max-frames N]": Run(
        data=True,
        prints="HOTA",
        instance=f"footfall edge evaluate {_CAMPUS}/gt/gt.txt {_CAMPUS}/gt/gt.txt --max-frames 3",
    ),
    "footfall edge weights [--path FILE [--sha256 HEX]] [--no-verify]": Run(
        instance="footfall edge weights --no-verify", prints="detector weights"
    ),
    "footfall edge check --site FILE [--frame N] [--image-size 640] [--confidence 0.25]": Run(
        data=True,
        instance="footfall edge check --site configs/sites/demo.yaml --frame 5 --image-size 640 "
        "--confidence 0.25",
    ),
    "footfall cloud ingest --topic-namespace NS": Run(
        stack=True, instance="footfall cloud ingest --topic-namespace NS"
    ),
    "footfall cloud check [--no-create-topics] [--topic-namespace NS]": Run(
        stack=True, instance="footfall cloud check --topic-namespace NS"
    ),
    "footfall cloud recompute --from T --to T": Run(
        stack=True,
        instance="footfall cloud recompute --from 2026-12-01T00:00 --to 2026-12-02T00:00+01:00",
    ),
    "footfall cloud recompute --adopt-rules [--from T --to T]": Run(
        stack=True, instance="footfall cloud recompute --adopt-rules"
    ),
    "footfall cloud apikey create --site ID [--site ID …] [--name TEXT] [--expires WHEN] "
    "[--site-config FILE…] [--sites-dir DIR]": Run(
        stack=True,
        instance="footfall cloud apikey create --site riverside-mall --site demo --name readme "
        "--expires 30d --site-config configs/sites/two_floor_mall.yaml --site-config "
        "configs/sites/demo.yaml",
    ),
    "footfall cloud apikey list [--site ID] [--json]": Run(
        stack=True, instance="footfall cloud apikey list --site demo --json"
    ),
    "footfall simulate --scenario NAME …": Run(
        instance="footfall simulate --scenario smoke --seed 2", prints="smoke"
    ),
    "footfall cloud stitch [--site FILE…] [--mode combined|appearance|spacetime …] [--delay-s 10] "
    "[--ttl-s 10800] [--interval-s 5] [--sites-rescan-s 10] [--once] [--database-url URL]": Run(
        stack=True,
        instance="footfall cloud stitch --site configs/sites/two_floor_mall.yaml --mode appearance "
        "--mode spacetime --delay-s 10 --ttl-s 10800 --once --database-url URL",
    ),
    "footfall cloud alerts [--site FILE…] [--sites-dir DIR] [--interval-s S] [--once] "
    "[--database-url URL]": Run(
        stack=True,
        instance="footfall cloud alerts --site configs/sites/two_floor_mall.yaml --interval-s 5 "
        "--once --database-url URL",
    ),
    "footfall simulate --scenario NAME --evaluate --json": Run(
        stack=True, instance="footfall simulate --scenario smoke --evaluate --json", prints="idf1"
    ),
    "footfall deepstream config --site FILE --camera ID [--camera ID …] [--out DIR] [--kafka "
    "HOST:PORT] [--topic NAME] [--mux-size WxH] [--people-per-m2 1]": Run(
        prints="wrote",
        instance="footfall deepstream config --site configs/sites/demo.yaml --camera pets-view1 "
        "--camera intel-entrance --out deepstream --kafka 10.0.0.5:9092 --topic "
        "footfall.deepstream.v1 --mux-size 1920x1080 --people-per-m2 1",
    ),
    "footfall cloud deepstream-bridge [--site FILE…] [--topic NAME] [--schema "
    "auto|minimal|full|protobuf] [--box-size WxH] [--label Person] [--track-timeout-s 2] "
    "[--frame-wait-s 1] [--heartbeat-interval-s 30] [--node-id deepstream] [--embedding-model "
    "deepstream] [--state-file FILE] [--group-id ID] [--topic-namespace NS] [--idle-exit-s S]": Run(
        stack=True,
        instance="footfall cloud deepstream-bridge --site configs/sites/demo.yaml --topic "
        "footfall.deepstream.v1 --schema minimal --box-size 1920x1080 --label Person "
        "--track-timeout-s 2 --frame-wait-s 1 --heartbeat-interval-s 30 --node-id deepstream "
        "--embedding-model deepstream --group-id readme --topic-namespace NS --idle-exit-s 3",
    ),
    "footfall site from-calibration CALIBRATION.json --view KEY --id ID --floor ID --source FILE "
    "--fps F --resolution W H [--unit-m 1] [--offset X Y] [--floor-size W D]": Run(
        data=True,
        prints="homography",
        instance="footfall site from-calibration "
        "../shared/data/pets2009_s2l1_multiview/calibration.json --view View_001 --id pets-view1 "
        "--floor plaza --source video.avi --fps 7 --resolution 768 576 --unit-m 0.001 "
        "--offset 22 18 --floor-size 34 30",
    ),
}

_SETUP = "set-up: `make test` runs `make setup` (all of these) before pytest, and CI runs it"
_LONG_EVAL = "replays every sequence of the manifest"
EXCLUDED: dict[str, str] = {
    "footfall cloud deepstream-bridge": "named in the status table; its synopsis under "
    "'DeepStream edge' is run (tests/integration/test_deepstream_stack.py drives it fully)",
    "footfall cloud apikey revoke KEY": "needs the id of a key made before it; "
    "tests/integration/test_apikey_lifecycle.py creates, lists and revokes keys with it",
    "python bench/reports/occupancy_day.py --scenario light": "benchmark: a simulated day "
    "(~13 min on 2 cores); tests/cloud/test_reports.py checks the balance rule",
    "python bench/reports/staff_breakdown.py --scenario moderate --seed 1": "benchmark: "
    "simulates 1.5 hours (under a minute on 2 cores); tests/evaluation/test_eval_staff_where.py "
    "runs it on smoke",
    "footfall simulate --scenario moderate --evaluate --json": "the full moderate evaluation "
    "through the stack takes minutes; the synopsis `footfall simulate --scenario NAME "
    "--evaluate --json` runs on smoke, and tests/cloud/test_reports.py checks the report rules",
    "make demo": "runs the whole demo on the demo stack and then serves until Ctrl-C; its "
    "parts (stack, edge, ingest, stitch, API) run here one by one, and the demo's own tests "
    "drive `footfall demo`",
    "make test": "the command this test runs inside",
    "make lint": "`make test` runs it before pytest",
    "make test-unit": "runs the unit tests, which `make test` runs",
    "make setup": _SETUP,
    "make system-deps": _SETUP,
    "make timescaledb": _SETUP,
    "make venv": _SETUP,
    "make vendor": _SETUP,
    "make weights": _SETUP + " (`footfall edge weights`, what it runs, runs here)",
    "pip install 'footfall[cloud]'": "installs packages; tests/test_footfall_cli.py checks that "
    "a missing extra is named with this command",
    "pip install 'footfall[edge]'": "installs packages; tests/test_footfall_cli.py checks that "
    "a missing extra is named with this command",
    "source .run/demo/stack.env": "a shell built-in on the demo stack's file; "
    "tests/stack/test_stack.py sources a stack.env and checks what it exports",
    "make bench-edge": "benchmark (~15 min)",
    "python bench/edge/engine_step.py": "benchmark (16 1080p frames, seconds to minutes on 2 "
    "shared cores); tests/edge/test_engine.py checks its two letterbox paths give one batch",
    "python bench/edge/engine_step.py --device cuda --frames 64": "benchmark on a CUDA GPU, "
    "which this machine lacks; the CPU form above is the same script",
    "make bench-cloud": "benchmark on the demo stack",
    "make bench-api": "benchmark on the demo stack",
    "make bench-stitch": "benchmark",
    "make stack-up": "the demo stack (default ports, shared by this machine's users); "
    "`footfall stack up`, what it runs, runs here on the test profile",
    "make stack-down": "stops the demo stack, which other work on this machine may be using",
    "make clean": "stops the demo stack and deletes .run/, where the test stack lives",
    "make schemas": "writes the committed schema snapshots; tests/contract checks them",
    "python -m footfall.contract.schemas --write": "writes the committed schema snapshots; "
    "tests/contract checks them",
    "footfall cloud api": "a server until SIGTERM; tests/integration/test_cloud_api.py and "
    "test_api_ops.py run it as a child process",
    "footfall eval configs/eval/all.yaml": _LONG_EVAL + " (~20 min); its bounded twin "
    "(`--sequence TUD-Campus … --out /tmp/compare`) runs here",
    "footfall eval configs/eval/sweep.yaml": _LONG_EVAL + " in six configurations",
    "footfall eval configs/eval/detection_sweep.yaml": "the detector in seven settings on a "
    "sample of every sequence (~40 min on a shared machine); tests/evaluation/"
    "test_eval_detection.py checks its figures on hand-made cases",
    "footfall eval configs/eval/detection_mall.yaml": "tiled detection on 500 Mall frames "
    "(~10 min on a shared machine); tests/evaluation/test_eval_short.py runs the crowd count",
    "footfall eval configs/eval/all.yaml --config configs/edge/default.yaml --config "
    "configs/edge/linker.yaml --max-frames 300 --no-end-to-end --out "
    "reports/eval/linker-vs-botsort": _LONG_EVAL + " in two configurations (~6 min); "
    "tests/edge/test_linker.py checks the linker",
    "footfall eval configs/eval/crowd_tracks_mall.yaml": "tiled detection and tracking on all "
    "2000 Mall frames (~8 min); tests/evaluation/test_eval_crowd.py counts by tracks on "
    "hand-made frames",
    "python bench/edge/mall_count_tracks.py": "benchmark (detects all 2000 Mall frames once, "
    "~6 min, then replays 50 trackers); tests/edge/test_linker.py checks the linker it sweeps",
    "footfall eval configs/eval/all.yaml --config configs/edge/default.yaml --config "
    "configs/edge/fp32.yaml --config configs/edge/accurate.yaml --no-end-to-end --out "
    "reports/eval/int8-vs-fp32": _LONG_EVAL + " in three configurations, each calibrated",
    "footfall eval configs/eval/short.yaml": "tests/evaluation/test_eval_short.py runs it "
    "(and tests/integration/test_eval_end_to_end.py its end-to-end part)",
    "footfall eval configs/eval/pets_multiview.yaml": "replays both PETS views and View_001's "
    "video (~4 min); tests/evaluation/test_eval_multicam.py runs its detection-file group on 60 "
    "frames",
    "footfall simulate --evaluate": "the option named in prose (the synopsis `footfall "
    "simulate --scenario NAME --evaluate --json` is checked); "
    "tests/evaluation/test_scratch_databases.py runs it on smoke",
    "footfall edge setup --site FILE [--out FILE] [--config FILE] [--host 127.0.0.1] "
    "[--port 8765]": "a server until Ctrl-C; tests/edge/test_setup.py runs the command and its "
    "API, tests/integration/test_site_setup_browser.py drives its page in Chromium",
    "footfall edge bench [--streams N] [--device cpu|cuda] [--duration-s S] [--search|--no-search] "
    "[--search-max N] [--decoder opencv|nvdec] [--source VIDEO] [--json FILE]": "minutes of "
    "decoding and detection on 1080p streams; tests/edge/test_engine_bench.py runs its bad input "
    "and search, tests/edge/test_engine*.py its engine, workers and decoders",
    "footfall edge bench": "named in prose; its synopsis is excluded above",
    "footfall edge bench --device cuda|cpu": "named in prose; its synopsis is excluded above",
    "footfall edge bench --streams 1 --device cpu --duration-s 10 --search-max 4": "the CPU "
    "benchmark behind the README's figures (minutes); its parts are tested in tests/edge/",
    "footfall edge optimize --site FILE [--config FILE]": "calibrates the INT8 detector on 150 "
    "frames of the site's cameras and times it (a minute or more); `edge run` and `edge check`, "
    "which do the same on first use, run here",
    "footfall cloud api [--host 127.0.0.1] [--port 8080] [--pool-size 8] [--max-waiting 1024] "
    "[--wait-timeout-s 10] [--stream-tick-s 1] [--stream-lifetime-s 3600] "
    "[--failed-keys-per-minute 30] [--bootstrap-servers HOST:PORT] [--access-log] "
    "[--sites-rescan-s 10]": "a server until SIGTERM; tests/integration/test_cloud_api.py and "
    "test_api_ops.py run it, test_sites_taken_up.py with --sites-rescan-s",
    "footfall eval MANIFEST": "the manifests' commands, listed one by one here",
    "footfall demo [--site FILE] [--frames N] [--no-serve] [--port N] [--mall-site FILE]": "`make "
    "demo`'s command (excluded above); tests/integration/test_demo_living_dashboard.py runs it "
    "serving, bounded to 20 frames, and tests/test_demo.py its bad input",
    "make demo DEMO_ARGS=--no-serve": "the whole demo on the demo stack (minutes); the demo's "
    "own tests drive `footfall demo`",
    "make demo DEMO_ARGS='--port 8081'": "serves until Ctrl-C, as `make demo` does",
    "python bench/dashboard/page_load.py --base URL --site demo --key KEY": "benchmark of a "
    "served dashboard in Chromium",
    "python bench/reid/bench_reid_separation.py": "benchmark (~3 min: embeds 1,549 PETS crops "
    "twice); tests/simulate/test_appearance_calibration.py checks its figures' code and the "
    "scenarios' calibration",
    "python bench/reid/calibrate_sim_appearance.py --real "
    "reports/eval/sim_appearance/real_separation.json --scenarios moderate,hard --seeds 1,2": "the "
    "calibration (~15 min: each scenario simulated twice, a grid of a few hundred appearance "
    "settings scored); tests/simulate/test_appearance_calibration.py checks the scenarios it set",
    "python bench/cloud/bench_stitch_losses.py --scenario moderate --seed 1": "benchmark (a "
    "few minutes: the scenario simulated and stitched once, then scored against oracles)",
    "python bench/cloud/bench_sim_appearance.py --scenario moderate --seed 1": "benchmark "
    "(about 4 minutes on 2 cores: the scenario simulated three times, each stitched in every "
    "mode)",
    "footfall edge run --sink kafka": "a fragment in prose (its site and node are elsewhere); "
    "tests/integration/test_eval_end_to_end.py runs it so",
}

# Options named in prose where the section's heading names no command, that belong to another
# program than `footfall`.
OTHER_OPTIONS: dict[str, str] = {"--repeat": "python bench/cloud/bench_stitch.py"}


# --- what a README command names ---------------------------------------------------------


def _footfall_commands(words: list[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    """The command paths a ``footfall …`` line names (``stack up|down|status`` names three),
    and the words after them. No path when a word where a command should be is not one."""
    paths: list[tuple[str, ...]] = [()]
    rest = words[1:]
    command: click.Command = main
    while rest and isinstance(command, click.Group):
        names = rest[0].split("|")
        ctx = click.Context(command)
        found = [command.get_command(ctx, n) for n in names]
        if any(c is None for c in found):
            break
        paths = [(*p, n) for p in paths for n in names]
        command = found[0]  # type: ignore[assignment]
        rest = rest[1:]
    return paths, rest


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        sub = command.get_command(click.Context(command), name)
        assert sub is not None
        command = sub
    return command


def _click_options(command: click.Command) -> set[str]:
    """The options of a command, and of every command under it."""
    ctx = click.Context(command)
    found = {o for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found |= _click_options(sub)
    return {o for o in found if o.startswith("-")}


def _program(words: list[str]) -> list[str]:
    """The program a README line starts (``python -m X``, ``python FILE``) as an argv."""
    if words[0] == "python":
        head = words[1:3] if words[1] == "-m" else words[1:2]
        return [sys.executable, *head]
    return words[:1]


@functools.cache
def _help_options(program: tuple[str, ...]) -> frozenset[str]:
    done = subprocess.run(
        [*program, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{' '.join(program)} --help: {done.stderr[-1000:]}"
    return frozenset(OPTION.findall(done.stdout))


def options_taken(words: list[str]) -> set[str]:
    """Every option the command a README line starts takes."""
    if words[0] == "footfall":
        paths, _ = _footfall_commands(words)
        return set().union(*(_click_options(_command(p)) for p in paths))
    if words[0] == "python":
        return set(_help_options(tuple(_program(words))))
    return set()


def _needs_arguments(path: tuple[str, ...]) -> bool:
    command = _command(path)
    return isinstance(command, click.Group) or any(p.required for p in command.params)


def _is_name(shown: Shown) -> bool:
    """``footfall simulate``: the bare name of a command that cannot run without arguments."""
    words = shown.words
    if words[0] != "footfall":
        return False
    paths, rest = _footfall_commands(words)
    only_names = all(w == "…" for w in rest)  # `footfall edge …`
    return only_names and len(paths) == 1 and paths[0] != () and _needs_arguments(paths[0])


def _runnable() -> dict[str, Shown]:
    """The commands the README shows that can run, as written or (synopses) filled in: all but
    the bare names. First showing of each."""
    found: dict[str, Shown] = {}
    for shown in SHOWN:
        if not _is_name(shown):
            found.setdefault(shown.text, shown)
    return found


def test_the_readme_reader_finds_commands_their_output_and_options() -> None:
    sample = textwrap.dedent("""\
        # Tool

        ```bash
        make demo    # a comment
        footfall eval a.yaml \\
            --out x
        ```

        ```
        $ footfall validate-config x.yaml
        x.yaml: fine
        ```

        ### `footfall stack up|down|status`

        | option | meaning |
        |---|---|
        | `--pg-port` | `footfall edge run --site FILE [--fast\\|--realtime]` |

        `footfall` alone, `source` alone and `footfall/site/` are no commands.
        """)
    found = [(s.text, s.line, s.is_synopsis, s.output) for s in shown_commands(sample)]
    assert found == [
        ("make demo", 4, False, None),
        ("footfall eval a.yaml --out x", 5, False, None),
        ("footfall validate-config x.yaml", 10, False, "x.yaml: fine\n"),
        ("footfall stack up|down|status", 14, True, None),
        ("footfall edge run --site FILE [--fast|--realtime]", 18, True, None),
    ]
    assert shown_commands(sample)[-1].options == ["--site", "--fast", "--realtime"]
    assert option_mentions(sample) == [
        OptionMention("--pg-port", 18, "footfall stack up|down|status")
    ]


# --- the tables and the README agree --------------------------------------------------------


def test_every_command_the_readme_shows_is_run_or_excluded() -> None:
    missing = [
        f"README.md:{s.line}: {text}"
        for text, s in _runnable().items()
        if text not in RUN and text not in EXCLUDED
    ]
    assert not missing, (
        "README commands neither run nor excluded here; add each to RUN in "
        "tests/test_readme_commands.py (bounded by its rules) or to EXCLUDED with the reason:\n"
        + "\n".join(missing)
    )


def test_every_entry_of_the_tables_is_still_in_the_readme() -> None:
    shown = _runnable()
    assert not set(RUN) & set(EXCLUDED)
    stale = [text for text in (*RUN, *EXCLUDED) if text not in shown]
    assert not stale, "no longer in the README (remove or update the entry): " + "; ".join(stale)


def test_a_synopsis_is_run_as_an_instance_of_itself() -> None:
    """Only a synopsis has an instance: the synopsis' command with options the README shows
    for it."""
    runnable = _runnable()
    problems = []
    for text, run in RUN.items():
        shown = runnable.get(text)
        if shown is None or shown.is_synopsis != bool(run.instance):
            problems.append(f"{text}: {'an instance' if run.instance else 'none'} given")
            continue
        if run.instance:
            words = shlex.split(run.instance)
            paths = set(_footfall_commands(words)[0])
            # The options it shows, and those its section names (a heading's synopsis).
            named = {m.option for m in option_mentions(README) if m.command == text}
            extra = set(OPTION.findall(run.instance)) - set(shown.options) - named
            if not paths <= set(_footfall_commands(shown.words)[0]) or extra:
                problems.append(f"{run.instance}: not an instance of {text}")
    assert not problems, "\n".join(problems)


def test_every_command_shown_exists_and_takes_the_options_shown() -> None:
    problems = []
    for shown in SHOWN:
        words = shown.words
        if words[0] == "footfall":
            paths, rest = _footfall_commands(words)
            if rest and not _value_or_option(rest[0]) and not _needs_positional(paths):
                problems.append(f"README.md:{shown.line}: {shown.text}: no command {rest[0]!r}")
                continue
        unknown = [o for o in shown.options if o not in options_taken(words)]
        if words[0] in ("footfall", "python") and unknown:
            problems.append(f"README.md:{shown.line}: {shown.text}: no option {', '.join(unknown)}")
    assert not problems, "\n".join(problems)


def _value_or_option(word: str) -> bool:
    return word.startswith("-") or PLACEHOLDER.search(word) is not None


def _needs_positional(paths: list[tuple[str, ...]]) -> bool:
    return any(isinstance(p, click.Argument) for path in paths for p in _command(path).params)


def test_every_option_named_in_a_section_belongs_to_its_command() -> None:
    everything = _click_options(main)
    problems = []
    for mention in option_mentions(README):
        if mention.command is not None:
            taken = options_taken(mention.command.split())
        elif mention.option in OTHER_OPTIONS:
            program = OTHER_OPTIONS[mention.option].split()
            taken = set(_help_options(tuple(_program(program))))
        else:
            taken = everything
        if mention.option not in taken:
            where = mention.command or "any footfall command"
            problems.append(
                f"README.md:{mention.line}: {mention.option} is not an option of {where}"
            )
    assert not problems, "\n".join(problems)


def _leaf_commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _leaf_commands(sub, (*path, name))
    else:
        yield path, command


def test_every_command_of_footfall_is_in_the_readme() -> None:
    shown = {
        path for s in SHOWN if s.words[0] == "footfall" for path in _footfall_commands(s.words)[0]
    }
    missing = [
        "footfall " + " ".join(path) for path, _ in _leaf_commands(main) if path not in shown
    ]
    assert not missing, "commands the README does not show: " + ", ".join(missing)


def test_every_option_of_every_command_is_in_the_readme() -> None:
    """Each option in a command's --help is named in the README (a flag pair by either name)."""
    named = set(OPTION.findall(README))
    missing = [
        f"footfall {' '.join(path)} {'/'.join(param.opts + param.secondary_opts)}"
        for path, command in _leaf_commands(main)
        for param in command.params
        if isinstance(param, click.Option)
        and not param.hidden
        and not named & {o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")}
    ]
    assert not missing, "options the README does not name: " + ", ".join(missing)


def test_every_make_target_shown_exists() -> None:
    targets = sorted({s.words[1] for s in SHOWN if s.words[0] == "make"})
    assert "test" in targets
    for target in targets:
        done = subprocess.run(
            ["make", "--dry-run", "--no-print-directory", target],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"make {target}: {done.stderr.strip()}"


# --- the README's commands run -------------------------------------------------------------

OUTPUTS = ("--out", "--mot-out", "--work-dir", "--spool-dir")
BOUNDS = {"--scenario": "smoke", "--max-frames": "3", "--idle-exit-s": "3"}
MAX_DURATION_S = 60.0


def bounded(
    words: list[str], tmp: Path, stack: StackProfile | None, database_url: str | None
) -> tuple[list[str], dict[str, str]]:
    """The README command as this test runs it, and its environment. The rules, all of them:

    1. Addresses: with the test stack, ``FOOTFALL_DATABASE_URL`` is a scratch database of its
       own and ``FOOTFALL_BOOTSTRAP_SERVERS`` the stack's broker (so are ``--database-url`` and
       ``--bootstrap-servers`` where given); ``footfall stack`` finds the test stack through
       ``FOOTFALL_RUN_DIR`` and ``FOOTFALL_TEST_*_PORT``.
    2. Files written: ``--out``, ``--mot-out``, ``--work-dir``, ``--spool-dir`` (given or not,
       where the command takes them) point into the test's own folder, keeping the file name
       given (``/tmp/compare`` → ``<tmp>/compare``); nothing in the checkout changes.
    3. Bounds, where the command takes them: the ``smoke`` scenario, ``--duration-s`` at most
       60, ``--max-frames 3``, ``--idle-exit-s 3``, ``--once``.
    4. Isolation: a topic namespace of its own (``--topic-namespace``).
    """
    argv = list(words)
    takes = options_taken(words)

    def put(option: str, value: str | None = None) -> None:
        if option not in takes:
            return
        if option in argv:
            if value is not None:
                argv[argv.index(option) + 1] = value
        else:
            argv.extend([option] if value is None else [option, value])

    env: dict[str, str] = {}
    if stack is not None:  # 1
        assert database_url is not None
        env |= {
            "FOOTFALL_DATABASE_URL": database_url,
            "FOOTFALL_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "FOOTFALL_RUN_DIR": str(stack.run_dir.parent),
            "FOOTFALL_TEST_PG_PORT": str(stack.pg_port),
            "FOOTFALL_TEST_BROKER_PORT": str(stack.broker_port),
        }
        if "--database-url" in argv:
            put("--database-url", database_url)
        if "--bootstrap-servers" in argv:
            put("--bootstrap-servers", stack.bootstrap_servers)
    for option in OUTPUTS:  # 2
        given = argv[argv.index(option) + 1] if option in argv else option.lstrip("-")
        put(option, str(tmp / Path(given).name))
    for option, value in BOUNDS.items():  # 3
        put(option, value)
    if "--duration-s" in argv:
        given = float(argv[argv.index("--duration-s") + 1])
        put("--duration-s", f"{min(given, MAX_DURATION_S):g}")
    put("--once")
    put("--topic-namespace", f"readme-{uuid.uuid4().hex[:8]}")  # 4
    return [*_program(argv), *argv[len(_program(words)) :]], env


def _run_params() -> Iterator[object]:
    runnable = _runnable()
    for text, run in sorted(
        RUN.items(), key=lambda kv: runnable[kv[0]].line if kv[0] in runnable else 0
    ):
        marks = [pytest.mark.integration] if run.stack else []
        if run.data:
            marks.append(
                pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
            )
        yield pytest.param(text, run, marks=marks, id=text[:60])


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("text", "run"), list(_run_params()))
def test_readme_command_runs(
    text: str, run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shown = _runnable()[text]
    stack: StackProfile | None = None
    database_url = None
    if run.stack:
        stack = request.getfixturevalue("local_stack")
        make_database: Callable[[], str] = request.getfixturevalue("make_database")
        database_url = make_database()
    argv, env = bounded(shlex.split(run.instance) or shown.words, tmp_path, stack, database_url)
    if argv[0] == "footfall":
        argv[0] = str(FOOTFALL)
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=500,
    )
    said = f"README.md:{shown.line}: {' '.join(argv)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == run.status, said
    assert "Traceback" not in done.stderr, said
    assert run.prints in done.stdout, said
    if shown.output is not None:
        assert done.stdout == shown.output, said


# --- bad input to each command group: one sentence ------------------------------------------


@pytest.fixture()
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


SENTENCE = re.compile(r"^Error: [^\n]+\n$")


BAD_INPUT = [
    pytest.param(
        ["stack", "up", "--profile", "test", "--pg-port", "{port}"], "already taken", id="stack"
    ),
    pytest.param(
        ["edge", "run", "--site", "configs/sites/demo.yaml", "--node", "Bad Node"],
        "'Bad Node' is not a valid node id",
        id="edge",
    ),
    pytest.param(
        [
            "cloud",
            "check",
            "--database-url",
            "postgresql://postgres@127.0.0.1:1/none",
            "--bootstrap-servers",
            "127.0.0.1:1",
        ],
        "Cannot connect to the database",
        id="cloud",
    ),
    pytest.param(
        ["simulate", "--scenario", "smoke", "--site", "configs/sites/demo.yaml"],
        "its zones are not connected",
        id="simulate",
    ),
    pytest.param(
        ["eval", "no/such/manifest.yaml"], "no/such/manifest.yaml cannot be read", id="eval"
    ),
    pytest.param(
        shlex.split(
            "site from-calibration no/such.json --view View_001 --id cam --floor plaza "
            "--source cam.mp4 --fps 7 --resolution 640 480"
        ),
        "no/such.json cannot be read",
        id="site",
    ),
    pytest.param(["demo", "--site", "no/such.yaml"], "no/such.yaml", id="demo"),
]


@pytest.mark.parametrize(("args", "says"), BAD_INPUT)
def test_bad_input_to_each_group_is_one_sentence(
    args: list[str], says: str, taken_port: int, tmp_path: Path
) -> None:
    # Every stack a command might start is a private one on a port that is taken, so a
    # command that starts one before checking its input fails on the port instead.
    env = {
        "FOOTFALL_RUN_DIR": str(tmp_path / "run"),
        **{f"FOOTFALL_{p}_PG_PORT": str(taken_port) for p in ("DEMO", "TEST")},
    }
    argv = [str(FOOTFALL), *(a.format(port=taken_port) for a in args)]
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    said = f"{' '.join(argv)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert done.returncode == 1, said
    assert SENTENCE.match(done.stderr), said
    assert says in done.stderr, said
    assert "Traceback" not in done.stdout + done.stderr, said


def test_a_bad_site_config_is_reported_with_where_and_the_fix() -> None:
    """validate-config's bad input is its report (README: one problem a line, with the fix)."""
    done = subprocess.run(
        [str(FOOTFALL), "validate-config", "configs/sites/broken/unknown_camera.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    first, fix, *_, summary = done.stdout.splitlines()
    assert re.match(r"configs/sites/broken/unknown_camera\.yaml:\d+:\d+: \S+: ", first), first
    assert fix.startswith("    fix: ")
    assert summary == "1 problem in configs/sites/broken/unknown_camera.yaml"
    assert done.stderr == ""
