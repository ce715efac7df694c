"""The local stack's checks and messages, without starting services."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.stack import probes, profile_for
from footfall.stack.process import read_pid, spawn, terminate


@pytest.fixture()
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback TCP server that is not a Kafka broker: it answers every request with junk."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                seen.append(conn.recv(64))
                conn.sendall(b"\x00\x00\x00\x06junk!!")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    server.close()


def test_port_taken_is_detected(listener: tuple[int, list[bytes]]) -> None:
    port, _ = listener
    assert not probes.port_is_free(port)


def test_kafka_probe_rejects_a_program_that_is_not_a_broker(
    listener: tuple[int, list[bytes]],
) -> None:
    port, seen = listener
    assert probes.kafka_api_versions_ok(port) is False
    assert seen and seen[0][4:6] == b"\x00\x12"  # it did send an ApiVersions (key 18) request


def test_kafka_probe_is_false_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert probes.kafka_api_versions_ok(port, timeout_s=0.5) is False


def test_stack_up_names_the_taken_port_and_the_fix(
    listener: tuple[int, list[bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = listener
    monkeypatch.setenv("FOOTFALL_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["stack", "up", "--profile", "test", "--pg-port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is already taken" in result.output
    assert "--pg-port" in result.output and "FOOTFALL_TEST_PG_PORT" in result.output
    assert "Traceback" not in result.output


def test_status_of_a_stack_that_never_ran_exits_nonzero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("FOOTFALL_TEST_PG_PORT", "1")
    monkeypatch.setenv("FOOTFALL_TEST_BROKER_PORT", "2")
    result = CliRunner().invoke(main, ["stack", "status", "--profile", "test"])
    assert result.exit_code == 1
    assert "postgres" in result.output and "stopped" in result.output


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--s3-port", "60000"], {}, "'--s3-port': 60000 is not in the range 1024<=x<=55531"),
        (["--pg-port", "70000"], {}, "'--pg-port': 70000 is not in the range 1<=x<=65535"),
        ([], {"FOOTFALL_DEMO_S3_PORT": "60000"}, "FOOTFALL_DEMO_S3_PORT='60000' is not a port"),
        ([], {"FOOTFALL_DEMO_PG_PORT": "abc"}, "FOOTFALL_DEMO_PG_PORT='abc' is not a port"),
    ],
)
def test_a_port_the_stack_cannot_use_is_one_sentence_before_anything_starts(
    args: list[str],
    env: dict[str, str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An S3 port above 55531 used to end in an OverflowError traceback (SeaweedFS's admin gRPC
    # port is 10004 above it); a bad port in the environment in a ValueError traceback.
    monkeypatch.setenv("FOOTFALL_RUN_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["stack", "up", "--profile", "demo", *args])
    assert result.exit_code in (1, 2)
    assert expected in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a usage error or Error:, not a crash
    assert not (tmp_path / "demo" / "logs").exists()  # nothing was started


def test_profiles_keep_their_data_apart(tmp_path: Path) -> None:
    demo, test = profile_for("demo", root=tmp_path), profile_for("test", root=tmp_path)
    assert demo.run_dir != test.run_dir
    assert {demo.pg_port, demo.broker_port}.isdisjoint({test.pg_port, test.broker_port})
    assert demo.persistent_broker and not test.persistent_broker
    with pytest.raises(ValueError, match="choose one of demo, test"):
        profile_for("prod", root=tmp_path)


def test_spawned_process_is_found_and_terminated(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    pid = spawn(["sleep", "30"], pid_file, tmp_path / "sleep.log")
    assert read_pid(pid_file) == pid
    assert terminate(pid_file, timeout_s=5)
    assert read_pid(pid_file) is None
    assert not terminate(pid_file)  # nothing left to stop


def test_the_env_file_exports_the_addresses(tmp_path: Path) -> None:
    """Sourcing stack.env must reach the commands started after it (so: export)."""
    from footfall.stack.services import _write_env_file

    profile = profile_for("test", root=tmp_path, pg_port=5999, broker_port=19999, s3_port=18333)
    profile.run_dir.mkdir(parents=True, exist_ok=True)
    _write_env_file(profile)
    shown = subprocess.run(
        ["bash", "-c", f"source {profile.env_file} && env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"FOOTFALL_DATABASE_URL={profile.database_url}" in shown
    assert f"FOOTFALL_BOOTSTRAP_SERVERS={profile.bootstrap_servers}" in shown


def test_the_run_directory_is_the_checkouts_wherever_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It used to be ./.run: `stack status` from /tmp looked at /tmp/.run/demo.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_RUN_DIR", raising=False)
    checkout = Path(__file__).resolve().parents[2]
    assert profile_for("demo").run_dir == checkout / ".run" / "demo"
    result = CliRunner().invoke(main, ["stack", "status", "--profile", "demo"])
    assert result.output.splitlines()[0] == f"stack 'demo' in {checkout / '.run' / 'demo'}"


def test_status_and_down_use_the_ports_the_stack_was_started_with(
    listener: tuple[int, list[bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `stack up --pg-port 55472 --broker-port 19372`, then `stack status` used to probe the
    # default ports (and say "up" when another stack answered there).
    port, _ = listener
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        broker = sock.getsockname()[1]
    monkeypatch.setenv("FOOTFALL_RUN_DIR", str(tmp_path))
    for name in ("PG", "BROKER", "S3"):
        monkeypatch.delenv(f"FOOTFALL_TEST_{name}_PORT", raising=False)
    # what `up` records before it starts anything (so a failed `up` leaves it too)
    profile_for("test", root=tmp_path, pg_port=port, broker_port=broker).record_ports()
    assert profile_for("test", root=tmp_path, recorded=True).pg_port == port
    assert profile_for("test", root=tmp_path).pg_port == 55442  # only when asked for
    result = CliRunner().invoke(main, ["stack", "status", "--profile", "test"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    pg = next(line for line in lines if line.strip().startswith("postgres"))
    assert f"127.0.0.1:{port}/footfall" in pg and "stopped" in pg and "no process" in pg
    assert f"127.0.0.1:{broker}" in next(x for x in lines if x.strip().startswith("broker"))
    # the listener holds the recorded PostgreSQL port: said so, not taken for this stack
    assert (
        f"postgresql://postgres@127.0.0.1:{port}/footfall answers, but not as this stack (no "
        "process of its own): another program holds the port; stop it, or start this stack on "
        "other ports (footfall stack up --pg-port/--broker-port)"
    ) in result.output
