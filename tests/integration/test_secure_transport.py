"""Edge → TLS → ingest gives the tables of plain text; a client that cannot verify the broker is
refused with one sentence.

Tansu 0.6 cannot serve TLS itself (see ``tests/support/tls_proxy.py``), so a second Tansu broker
advertises the address of a TLS-terminating proxy in front of it, with a certificate from a CA
made for the test. The edge's :class:`KafkaPublisher` and the ``footfall cloud ingest`` process
connect through the proxy with ``FOOTFALL_KAFKA_SECURITY_PROTOCOL=SSL`` and the CA file.

SASL is not tested end to end: Tansu 0.6.0 lets no SASL exchange succeed. Without
``--authentication`` it answers kafka-python's SaslHandshake for SCRAM-SHA-512 with "unsupported
mechanism" while listing that very mechanism; with it (users made by ``tansu user create`` first,
on S3 storage, the broker then restarted) the SCRAM exchange ends in ``e=unknown-user``, and
DescribeUserScramCredentials gets no answer. The SASL settings are checked in
``tests/test_broker_security.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from ingest_cli import ingest_args
from synthetic import site_messages
from tls_proxy import ProxyCA, TLSProxy, make_ca

from cloud.transport.kafka import BrokerError, ensure_topics, list_topics
from edge.publish import KafkaPublisher
from footfall.broker_security import BrokerSecurity
from footfall.contract import Message
from footfall.site import load_site
from footfall.stack.services import tansu_binary

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TABLES = {
    "frame": "site_id, camera_id, captured_at, run_id, frame_index, track_count",
    "observation": "site_id, camera_id, captured_at, track_id, x_m, y_m, x1, confidence",
    "track": "site_id, camera_id, track_id, first_at, last_at, dirty",
    "line_crossing": "site_id, line_id, camera_id, track_id, at, direction",
    "zone_visit": "site_id, zone_id, camera_id, track_id, enter_at, exit_at, dwell_s",
    "footfall_minute": "site_id, line_id, minute, ins, outs",
    "occupancy_minute": "site_id, zone_id, minute, occupancy",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass(frozen=True)
class SecureBroker:
    servers: str
    ca: ProxyCA
    proxy: TLSProxy

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "FOOTFALL_KAFKA_SECURITY_PROTOCOL": "SSL",
            "FOOTFALL_KAFKA_SSL_CAFILE": str(self.ca.ca_file),
            **extra,
        }


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """A memory-storage Tansu that advertises the TLS proxy's address, and the proxy."""
    folder = tmp_path_factory.mktemp("tls")
    ca = make_ca(folder / "ca")
    broker_port, proxy_port = _free_port(), _free_port()
    with (folder / "tansu.log").open("wb") as log:
        broker = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{broker_port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{proxy_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_port(broker_port)
        with TLSProxy(proxy_port, broker_port, ca) as proxy:
            yield SecureBroker(f"127.0.0.1:{proxy_port}", ca, proxy)
    finally:
        broker.terminate()
        broker.wait(20)


def _messages() -> list[Message]:
    return list(site_messages(load_site(SITE_FILE), T0, duration_s=90, fps=5, seed=7))


def _publish(
    servers: str, ns: str, spool: Path, messages: list[Message], security: BrokerSecurity
) -> None:
    """What ``footfall edge run --sink kafka`` does with its messages: spool, send, confirm."""
    ensure_topics(servers, partitions=4, namespace=ns, security=security)
    with KafkaPublisher(servers, spool, topic_namespace=ns, security=security) as publisher:
        for message in messages:
            publisher.publish(message)
        publisher.flush(120)
        assert publisher.pending == 0
        assert publisher.sent == len(messages)


def _ingest(database_url: str, servers: str, ns: str, env: dict[str, str]) -> str:
    args = ingest_args(database_url, servers, ns, "--idle-exit-s", "6")
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def _snapshot(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
            for table, cols in TABLES.items()
        }


def test_edge_to_ingest_over_tls_gives_the_tables_of_plain_text(
    secure_broker: SecureBroker,
    bootstrap_servers: str,
    make_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    messages = _messages()
    ns = f"tls-{uuid.uuid4().hex[:8]}"

    # Plain text, on the local stack's broker.
    plain_url = make_database()
    plain = BrokerSecurity(security_protocol="PLAINTEXT")
    _publish(bootstrap_servers, ns, tmp_path / "plain-spool", messages, plain)
    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_KAFKA_")}
    _ingest(plain_url, bootstrap_servers, ns, plain_env)

    # TLS with certificate verification against the test CA, through the proxy.
    tls_url = make_database()
    tls = BrokerSecurity(security_protocol="SSL", ssl_cafile=secure_broker.ca.ca_file)
    before = secure_broker.proxy.connections
    _publish(secure_broker.servers, ns, tmp_path / "tls-spool", messages, tls)
    log = _ingest(tls_url, secure_broker.servers, ns, secure_broker.env())
    assert secure_broker.proxy.connections > before + 1  # the edge and ingest came through it

    expected = _snapshot(plain_url)
    assert len(expected["frame"]) == len(messages)
    assert expected["line_crossing"] and expected["zone_visit"] and expected["footfall_minute"]
    assert _snapshot(tls_url) == expected
    assert "Traceback" not in log


def test_a_broker_the_client_cannot_verify_is_refused_in_one_sentence(
    secure_broker: SecureBroker, database_url: str, tmp_path: Path
) -> None:
    # The right CA: the check passes and says how it connected.
    ok = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "cloud", "check", "--database-url", database_url,
         "--bootstrap-servers", secure_broker.servers, "--no-create-topics"],
        cwd=REPO, env=secure_broker.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert (
        f"broker    ok  {secure_broker.servers}  (SSL, CA {secure_broker.ca.ca_file}" in ok.stdout
    )

    # Another CA (a broker impersonated, or the wrong CA file): refused, one sentence.
    stranger = make_ca(tmp_path / "other", name="someone else")
    refused = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "cloud", "check", "--database-url", database_url,
         "--bootstrap-servers", secure_broker.servers, "--no-create-topics"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=secure_broker.env(FOOTFALL_KAFKA_SSL_CAFILE=str(stranger.ca_file)),
    )  # fmt: skip
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    assert f"No Kafka-protocol broker answers at {secure_broker.servers} over SSL" in (
        refused.stderr
    )

    # SASL over TLS (which this broker refuses): the error names the user, never the password.
    password = tmp_path / "kafka-password"
    password.write_text("not-in-any-log-7f3a\n")
    sasl = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "cloud", "check", "--database-url", database_url,
         "--bootstrap-servers", secure_broker.servers, "--no-create-topics"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=secure_broker.env(
            FOOTFALL_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            FOOTFALL_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
            FOOTFALL_KAFKA_SASL_USERNAME="edge-01",
            FOOTFALL_KAFKA_SASL_PASSWORD_FILE=str(password),
        ),
    )  # fmt: skip
    assert sasl.returncode != 0 and "Traceback" not in sasl.stderr
    assert "over SASL_SSL, SCRAM-SHA-512 as 'edge-01'" in sasl.stderr
    assert "not-in-any-log-7f3a" not in sasl.stdout + sasl.stderr

    # The system's CAs do not know the test CA; plain text to the TLS port gets nowhere.
    for security in (BrokerSecurity(security_protocol="SSL"), BrokerSecurity()):
        with pytest.raises(BrokerError):
            list_topics(secure_broker.servers, timeout_ms=3000, security=security)
