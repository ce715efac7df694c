"""`footfall stack status` is truthful: another stack answering on a stack's port is not it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.stack import StackProfile, profile_for

pytestmark = pytest.mark.integration


def test_a_stack_that_did_not_start_is_not_up_when_another_answers_on_its_port(
    local_stack: StackProfile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a failed `up` on a port that another PostgreSQL holds, status used to say
    # "postgres up … no process".
    monkeypatch.setenv("FOOTFALL_RUN_DIR", str(tmp_path))
    for name in ("PG", "BROKER", "S3"):
        monkeypatch.delenv(f"FOOTFALL_TEST_{name}_PORT", raising=False)
    profile_for(
        "test", root=tmp_path, pg_port=local_stack.pg_port, broker_port=local_stack.broker_port
    ).record_ports()
    result = CliRunner().invoke(main, ["stack", "status", "--profile", "test"])
    assert result.exit_code == 1
    for service in ("postgres", "broker"):
        line = next(x for x in result.output.splitlines() if x.strip().startswith(service))
        assert " up " not in line and "stopped" in line and "no process" in line
    assert result.output.count("answers, but not as this stack") == 2
