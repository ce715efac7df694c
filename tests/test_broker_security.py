"""The Kafka clients' TLS / SASL settings: from the environment and files, checked together,
handed to kafka-python, and never printed with a password."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from footfall.broker_security import BrokerSecurity, BrokerSecurityError

SECRET = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("FOOTFALL_KAFKA_"):
            monkeypatch.delenv(name)


def test_default_is_plain_text() -> None:
    security = BrokerSecurity.from_env()
    assert security.kafka_options() == {"security_protocol": "PLAINTEXT"}
    assert security.describe() == "PLAINTEXT"


def test_tls_with_a_custom_ca_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("FOOTFALL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("FOOTFALL_KAFKA_SSL_CAFILE", str(ca))
    options = BrokerSecurity.from_env().kafka_options()
    assert options == {
        "security_protocol": "SSL",
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca),
    }


def test_sasl_scram_password_from_a_file_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "password"
    secret.write_text(SECRET + "\n")
    monkeypatch.setenv("FOOTFALL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_USERNAME", "edge-01")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_PASSWORD_FILE", str(secret))
    security = BrokerSecurity.from_env()
    options = security.kafka_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "edge-01"
    assert options["sasl_plain_password"] == SECRET  # the file's line, without its newline
    assert security.describe() == "SASL_SSL, SCRAM-SHA-512 as 'edge-01', system CAs"
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings %r %s", security, security)
    for text in (repr(security), str(security), security.describe(), caplog.text):
        assert SECRET not in text


def test_kafka_pythons_debug_log_of_its_configuration_hides_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    security = BrokerSecurity(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="edge-02",
        sasl_password=SECRET,  # type: ignore[arg-type]
    )
    options = security.kafka_options()
    with caplog.at_level(logging.DEBUG, logger="kafka.admin.client"):
        # What KafkaAdminClient.__init__ logs, word for word.
        logging.getLogger("kafka.admin.client").debug(
            "Starting KafkaAdminClient with configuration: %s", options
        )
    assert "Starting KafkaAdminClient" in caplog.text and "edge-02" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_every_mechanism_is_passed_on(mechanism: str) -> None:
    security = BrokerSecurity(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,  # type: ignore[arg-type]
        sasl_username="u",
        sasl_password=SECRET,  # type: ignore[arg-type]
    )
    assert security.kafka_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "u",
        "sasl_plain_password": SECRET,
    }


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SECURITY_PROTOCOL": "TLS"}, "FOOTFALL_KAFKA_SECURITY_PROTOCOL"),
        ({"SSL_CAFILE": "{tmp}/ca.pem"}, "set the protocol to SSL or SASL_SSL"),
        ({"SECURITY_PROTOCOL": "SSL", "SSL_CAFILE": "{tmp}/none.pem"}, "is not a file"),
        ({"SASL_USERNAME": "edge"}, "set the protocol to SASL_SSL"),
        (
            {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_USERNAME": "edge"},
            "SASL_SSL needs FOOTFALL_KAFKA_SASL_MECHANISM, FOOTFALL_KAFKA_SASL_PASSWORD_FILE",
        ),
        (
            {
                "SECURITY_PROTOCOL": "SASL_SSL",
                "SASL_MECHANISM": "SCRAM-SHA-256",
                "SASL_USERNAME": "edge",
                "SASL_PASSWORD_FILE": "{tmp}/missing",
            },
            "FOOTFALL_KAFKA_SASL_PASSWORD_FILE=",
        ),
        ({"SECURITY_PROTOCOL": "SASL_SSL", "SASL_MECHANISM": "GSSAPI"}, "SASL_MECHANISM"),
        ({"SECURITY_PROTOCOL": "SSL", "SSL_CERTFILE": "{tmp}/ca.pem"}, "SSL_KEYFILE"),
    ],
)
def test_settings_that_do_not_fit_say_which_and_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], says: str
) -> None:
    (tmp_path / "ca.pem").write_text("x")
    for name, value in env.items():
        monkeypatch.setenv(f"FOOTFALL_KAFKA_{name}", value.format(tmp=tmp_path))
    with pytest.raises(BrokerSecurityError) as raised:
        BrokerSecurity.from_env()
    message = str(raised.value)
    assert says in message
    assert "\n" not in message
