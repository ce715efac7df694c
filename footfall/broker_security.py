"""How every Kafka client reaches the broker: TLS and SASL, from the environment and files.

A base-layer module (pydantic-settings and the standard library only), read by both Kafka
adapters (:mod:`edge.publish.kafka`, :mod:`cloud.transport.kafka`), so the edge publisher, the
ingest consumer, the dead-letter producer, the admin client and the simulator's publisher all
connect the same way. Settings (env ``FOOTFALL_KAFKA_*``; never in a site file):

- ``SECURITY_PROTOCOL``: ``PLAINTEXT`` (default), ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``.
- ``SSL_CAFILE``: PEM file of the CA that signed the broker's certificate (default: the system's
  trust store); ``SSL_CHECK_HOSTNAME`` (default true); ``SSL_CERTFILE`` / ``SSL_KEYFILE`` (and
  ``SSL_PASSWORD`` or ``SSL_PASSWORD_FILE``) for a client certificate (mutual TLS).
- ``SASL_MECHANISM``: ``PLAIN``, ``SCRAM-SHA-256`` or ``SCRAM-SHA-512``; ``SASL_USERNAME``;
  ``SASL_PASSWORD``, or better ``SASL_PASSWORD_FILE`` (a file readable by the service only).

Secrets are :class:`pydantic.SecretStr` (``repr`` and ``str`` print ``**********``),
:meth:`BrokerSecurity.describe` (what processes log) names the protocol, mechanism, user and CA
file, never a password, and kafka-python's admin client, which logs its whole configuration at
DEBUG, has the passwords handed to it replaced by ``**********`` in its log records. A wrong
combination is a :class:`BrokerSecurityError` naming the variable and the fix.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from footfall.errors import UserError

ENV_PREFIX = "FOOTFALL_KAFKA_"

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


CLIENT_LOGGERS = ("kafka.admin.client",)
"""kafka-python loggers that print a client's whole configuration (at DEBUG)."""


class _Redact(logging.Filter):
    """Replaces the secrets it knows with ``**********`` in records of the logger it sits on."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(secret in text for secret in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, "**********")
            record.msg, record.args = text, None
        return True


_REDACT = _Redact()
for _name in CLIENT_LOGGERS:
    logging.getLogger(_name).addFilter(_REDACT)


class BrokerSecurityError(UserError, ValueError):
    """The ``FOOTFALL_KAFKA_*`` settings do not fit together (or a file they name is missing)."""


def _read_secret(path: Path, variable: str) -> SecretStr:
    try:
        return SecretStr(path.read_text().strip())
    except OSError as exc:
        raise ValueError(
            f"{ENV_PREFIX}{variable}={str(path)!r} cannot be read ({exc.strerror}); point it at "
            "a readable file holding only the password"
        ) from None


class BrokerSecurity(BaseSettings):
    """TLS and SASL settings of a Kafka client (env ``FOOTFALL_KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    security_protocol: Protocol = "PLAINTEXT"
    ssl_cafile: Path | None = None
    """CA certificate(s), PEM, that the broker's certificate must chain to."""
    ssl_check_hostname: bool = True
    """Whether the broker's certificate must name the host the client connects to."""
    ssl_certfile: Path | None = None
    """The client's certificate, PEM (mutual TLS only)."""
    ssl_keyfile: Path | None = None
    """The client's private key, PEM (mutual TLS only)."""
    ssl_password: SecretStr | None = None
    """Password of ``ssl_keyfile``, if it is encrypted."""
    ssl_password_file: Path | None = None
    sasl_mechanism: Mechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = None

    @model_validator(mode="after")
    def _fits_together(self) -> BrokerSecurity:
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        sasl = self.security_protocol.startswith("SASL_")
        tls_files = {
            "SSL_CAFILE": self.ssl_cafile,
            "SSL_CERTFILE": self.ssl_certfile,
            "SSL_KEYFILE": self.ssl_keyfile,
        }
        for name, path in tls_files.items():
            if path is None:
                continue
            if not tls:
                raise ValueError(
                    f"{ENV_PREFIX}{name} is set but {ENV_PREFIX}SECURITY_PROTOCOL is "
                    f"{self.security_protocol}; set the protocol to SSL or SASL_SSL, or unset it"
                )
            if not path.is_file():
                raise ValueError(f"{ENV_PREFIX}{name}={str(path)!r} is not a file; fix the path")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError(
                f"a client certificate needs both {ENV_PREFIX}SSL_CERTFILE and "
                f"{ENV_PREFIX}SSL_KEYFILE; set both, or neither"
            )
        if self.ssl_password is not None and self.ssl_password_file is not None:
            raise ValueError(
                f"set {ENV_PREFIX}SSL_PASSWORD or {ENV_PREFIX}SSL_PASSWORD_FILE, not both"
            )
        sasl_given = (
            self.sasl_mechanism
            or self.sasl_username
            or self.sasl_password
            or self.sasl_password_file
        )
        if sasl_given and not sasl:
            raise ValueError(
                f"SASL settings are set but {ENV_PREFIX}SECURITY_PROTOCOL is "
                f"{self.security_protocol}; set the protocol to SASL_SSL (or SASL_PLAINTEXT on a "
                "trusted network), or unset them"
            )
        if sasl:
            if self.sasl_password is not None and self.sasl_password_file is not None:
                raise ValueError(
                    f"set {ENV_PREFIX}SASL_PASSWORD or {ENV_PREFIX}SASL_PASSWORD_FILE, not both"
                )
            missing = [
                name
                for name, value in (
                    ("SASL_MECHANISM", self.sasl_mechanism),
                    ("SASL_USERNAME", self.sasl_username),
                    ("SASL_PASSWORD_FILE", self.sasl_password or self.sasl_password_file),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"{self.security_protocol} needs "
                    + ", ".join(ENV_PREFIX + m for m in missing)
                    + "; set them (the password may be given as "
                    f"{ENV_PREFIX}SASL_PASSWORD instead of a file)"
                )
        if self.sasl_password_file is not None:
            object.__setattr__(
                self, "sasl_password", _read_secret(self.sasl_password_file, "SASL_PASSWORD_FILE")
            )
        if self.ssl_password_file is not None:
            object.__setattr__(
                self, "ssl_password", _read_secret(self.ssl_password_file, "SSL_PASSWORD_FILE")
            )
        return self

    @classmethod
    def from_env(cls, **options: Any) -> BrokerSecurity:
        """The settings from ``FOOTFALL_KAFKA_*``, with ``options`` (not None) over them."""
        try:
            return cls(**{k: v for k, v in options.items() if v is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                if e["loc"]
                else str(e["msg"]).removeprefix("Value error, ")
                for e in exc.errors()
            )
            raise BrokerSecurityError(f"Kafka security settings: {problems}.") from None

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def kafka_options(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's clients (``KafkaProducer(**…)`` and the like)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.tls:
            options["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                path = getattr(self, name)
                if path is not None:
                    options[name] = str(path)
            if self.ssl_password is not None:
                options["ssl_password"] = self.ssl_password.get_secret_value()
        if self.security_protocol.startswith("SASL_"):
            assert self.sasl_password is not None
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        for name in ("ssl_password", "sasl_plain_password"):
            if options.get(name):
                _REDACT.secrets.add(options[name])
        return options

    def describe(self) -> str:
        """One line for logs and errors: protocol, mechanism, user, CA; never a secret."""
        parts: list[str] = [self.security_protocol]
        if self.security_protocol.startswith("SASL_"):
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username!r}")
        if self.tls:
            parts.append(f"CA {self.ssl_cafile}" if self.ssl_cafile else "system CAs")
            if not self.ssl_check_hostname:
                parts.append("host name not checked")
            if self.ssl_certfile:
                parts.append(f"client certificate {self.ssl_certfile}")
        return ", ".join(parts)
