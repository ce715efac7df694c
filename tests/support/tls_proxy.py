"""A TLS-terminating TCP proxy and a throw-away certificate authority, for tests only.

Tansu 0.6 cannot serve TLS itself (its command line refuses ``--cert`` together with ``--key``),
so the secure-transport tests put this proxy in front of it: clients speak TLS to the proxy,
which forwards the bytes in plain text to the broker. The Kafka protocol advertises broker
addresses in its metadata answers, so the broker behind must advertise the *proxy's* address
(``--advertised-listener-url tcp://127.0.0.1:<proxy port>``): clients then reconnect to the proxy
after bootstrap, never to the broker's own port.

Certificates are made with the ``openssl`` command line (part of every Debian install).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProxyCA:
    """A CA and one server certificate it signed for ``localhost`` / ``127.0.0.1``."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_ca(folder: Path, name: str = "footfall test CA") -> ProxyCA:
    """A fresh CA under ``folder`` and a server certificate for loopback signed by it."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", f"/CN={name}",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost",
    )  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf",
    )  # fmt: skip
    return ProxyCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")


class TLSProxy:
    """Listens with TLS on ``127.0.0.1:listen_port``; forwards each connection to the target.

    Runs its own event loop in a daemon thread; :attr:`connections` counts the TLS handshakes
    that succeeded (so a test can tell that the clients came through it).
    """

    def __init__(self, listen_port: int, target_port: int, ca: ProxyCA) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self.connections = 0
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(ca.cert_file, ca.key_file)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="tls-proxy", daemon=True)

    def __enter__(self) -> TLSProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the TLS proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(
                self._serve, "127.0.0.1", self.listen_port, ssl=self._context, reuse_address=True
            )
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
