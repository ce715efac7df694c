"""One base class for errors the user can fix, reported the same way by every command line."""

from __future__ import annotations

import importlib

import click
import pytest
from click.testing import CliRunner

from footfall.errors import Command, Group, UserError

USER_ERRORS = [
    "footfall.site.errors:SiteConfigError",
    "footfall.stack.services:StackError",
    "footfall.evaluation.manifest:ManifestError",
    "footfall.evaluation.crowd:CrowdDataError",
    "footfall.evaluation.end_to_end:EndToEndError",
    "edge.config:EdgeConfigError",
    "edge.annotate:AnnotationError",
    "edge.reid:ReidError",
    "edge.sources:SourceError",
    "edge.detection_backends:DetectorBackendError",
    "edge.evaluate:EvaluationError",
    "edge.weights:WeightsError",
    "edge.sinks:SinkError",
    "cloud.transport.kafka:BrokerError",
    "cloud.db:DatabaseError",
]


@pytest.mark.parametrize("name", USER_ERRORS)
def test_every_user_error_of_every_part_has_the_one_base_class(name: str) -> None:
    module, _, attr = name.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    assert issubclass(cls, UserError), name


def _program() -> click.Group:
    @click.group(cls=Group)
    def program() -> None:
        """A test program."""

    @program.command()
    @click.argument("what")
    def fail(what: str) -> None:
        if what == "user":
            from edge.sources import SourceError

            raise SourceError("Camera a: source x.mp4 does not exist; fix `source`.")
        raise KeyError("a bug")

    return program


def test_a_group_reports_a_user_error_as_one_sentence_and_exit_1() -> None:
    result = CliRunner().invoke(_program(), ["fail", "user"])
    assert result.exit_code == 1
    assert result.output == "Error: Camera a: source x.mp4 does not exist; fix `source`.\n"


def test_a_bug_is_not_dressed_up_as_a_user_error() -> None:
    result = CliRunner().invoke(_program(), ["fail", "bug"])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)
    assert "Error:" not in result.output


def test_a_lone_command_reports_user_errors_too() -> None:
    @click.command(cls=Command)
    def lone() -> None:
        raise UserError("Give a manifest; configs/eval/short.yaml is one.")

    result = CliRunner().invoke(lone, [])
    assert (result.exit_code, result.output) == (
        1,
        "Error: Give a manifest; configs/eval/short.yaml is one.\n",
    )


def test_the_footfall_program_reports_user_errors_of_every_group() -> None:
    from footfall.cli import main

    # The edge group's own error (a missing result file), through the top-level program.
    result = CliRunner().invoke(main, ["edge", "evaluate", "nope.txt", "gt.txt"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: nope.txt does not exist")
    # The evaluation command's (a manifest that is not there).
    result = CliRunner().invoke(main, ["eval", "no/such/manifest.yaml", "--no-end-to-end"])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Traceback" not in result.output
