"""Local stand-ins for the services notifications go to: an HTTP receiver and SMTP servers (plain, STARTTLS,
implicit TLS with a throwaway CA) on loopback, and a UDP listener that records what it is sent."""
from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message as Email
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.services import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # arrival, Unix time

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class HTTPReceiver:
    """Records every request; answers with the statuses queued in `answers` (then 200), a 3xx pointing to
    `location`."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    location: str = ""
    delay_seconds: float = 0.0  # a slow receiver: records the request at once, answers this much later


@contextmanager
def running_http_receiver() -> Iterator[HTTPReceiver]:
    """An HTTPReceiver on a free loopback port, for as long as the block runs (tests and bench/ use it)."""
    receiver = HTTPReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, dict(self.headers), body, time.time()))
            time.sleep(receiver.delay_seconds)
            status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.location)
            self.end_headers()
            self.wfile.write(b"{}" if status < 400 else b"receiver says no")

        def log_message(self, *args) -> None:  # http.server logs every request to stderr otherwise
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_receiver() -> Iterator[HTTPReceiver]:
    with running_http_receiver() as receiver:
        yield receiver


SMTP_LOGIN = ("alerts", "s3cret")  # the one user and password smtp_starttls_receiver takes


@dataclass
class SMTPReceiver:
    """Keeps every message it accepts, with the TLS version it came over (None: plain) and who logged in."""

    host: str
    port: int
    ca_file: str = ""  # the CA certificate that signed the server's, for a TLS-speaking receiver
    messages: list[Email] = field(default_factory=list)
    tls_versions: list[str | None] = field(default_factory=list)
    logins: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class ServerTLS:
    """What a TLS-speaking test server needs: the CA file its clients trust, and its own TLS context."""

    ca_file: str
    context: ssl.SSLContext


@pytest.fixture(scope="session")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> ServerTLS:
    """A throwaway CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WARD FLUX test CA")])
    now = datetime.now(timezone.utc)

    def certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey, *extensions: x509.ExtensionType) -> bytes:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                  critical=False))
        for extension in extensions:  # critical as RFC 5280 and OpenSSL's strict mode want them
            critical = isinstance(extension, (x509.BasicConstraints, x509.KeyUsage))
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca = certificate(ca_name, ca_key, x509.BasicConstraints(ca=True, path_length=0), x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False))
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), server_key,
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "ca.pem").write_bytes(ca)
    (folder / "server.pem").write_bytes(server + server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem")
    return ServerTLS(str(folder / "ca.pem"), context)


def _smtp_server(receiver: SMTPReceiver, **options: Any) -> Iterator[SMTPReceiver]:
    """aiosmtpd on the receiver's address, with the Controller/SMTP options given, until the test is done."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
            tls = server.transport.get_extra_info("ssl_object")
            receiver.messages.append(message_from_bytes(envelope.content))
            receiver.tls_versions.append(tls.version() if tls else None)
            receiver.logins.append(session.auth_data)
            return "250 OK"

    controller = Controller(Handler(), hostname=receiver.host, port=receiver.port, **options)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def _take_smtp_login(server, session, envelope, mechanism: str, auth_data: Any):
    """aiosmtpd authenticator accepting SMTP_LOGIN only; the user name becomes session.auth_data."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    given = (auth_data.login.decode(), auth_data.password.decode()) if isinstance(auth_data, LoginPassword) else None
    return AuthResult(success=given == SMTP_LOGIN, handled=False, auth_data=SMTP_LOGIN[0])


@pytest.fixture
def smtp_receiver() -> Iterator[SMTPReceiver]:
    """aiosmtpd on a free loopback port, speaking plain SMTP."""
    yield from _smtp_server(SMTPReceiver("127.0.0.1", free_port()))


@pytest.fixture
def smtp_starttls_receiver(server_tls: ServerTLS) -> Iterator[SMTPReceiver]:
    """Refuses mail before STARTTLS; after it, takes a login as SMTP_LOGIN (optional)."""
    yield from _smtp_server(SMTPReceiver("127.0.0.1", free_port(), ca_file=server_tls.ca_file),
                            tls_context=server_tls.context, require_starttls=True, authenticator=_take_smtp_login)


@pytest.fixture
def smtp_tls_receiver(server_tls: ServerTLS) -> Iterator[SMTPReceiver]:
    """Implicit TLS: the connection is TLS from the first byte (port 465 style)."""
    yield from _smtp_server(SMTPReceiver("127.0.0.1", free_port(), ca_file=server_tls.ca_file),
                            ssl_context=server_tls.context)


class UDPListener:
    """A UDP socket on a loopback address that keeps every datagram sent to it and never answers: proves that a
    refused request sent nothing, and that an accepted one did."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()

    def received(self, wait: float = 0.5) -> list[bytes]:
        """The datagrams that arrived, waiting up to `wait` seconds for a first one."""
        datagrams = []
        self.sock.settimeout(wait)
        with contextlib.suppress(TimeoutError):
            while True:
                datagrams.append(self.sock.recv(65535))
                self.sock.settimeout(0.05)
        return datagrams


@pytest.fixture
def udp_listener() -> Iterator[Callable[..., UDPListener]]:
    """Make UDPListener(host, port=0)s, closed after the test."""
    made: list[UDPListener] = []

    def make(host: str, port: int = 0) -> UDPListener:
        made.append(UDPListener(host, port))
        return made[-1]

    yield make
    for listener in made:
        listener.sock.close()
