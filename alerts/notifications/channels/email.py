"""Email over SMTP: plain, STARTTLS or implicit TLS, with login when a username is set."""
from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from alerts.models import NotificationChannel
from alerts.notifications import Channel, register
from alerts.notifications.base import TIMEOUT_SECONDS, DeliveryError, recipients_problems
from alerts.notifications.message import Message
from wardsite import outbound
from wardsite.text import quote

DEFAULT_FROM = "wardflux@localhost"
DEFAULT_HOST = "127.0.0.1"  # a mail server on this machine: allowed only through OUTBOUND_ALLOWED_NETWORKS
SMTP_SECURITY = ("none", "starttls", "tls")


def send(channel: NotificationChannel, message: Message) -> None:
    """One mail to every address of `to`."""
    settings = channel.full_settings
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.get("from", DEFAULT_FROM)
    mail["To"] = ", ".join(settings["to"])
    mail.set_content(message.text)
    host, port = settings.get("host", DEFAULT_HOST), settings.get("port", 25)
    security = settings.get("security", "none")
    context = tls_context(settings) if security != "none" else None
    _guard(host, port)
    try:
        smtp_class = _CheckedSMTPSSL if security == "tls" else _CheckedSMTP
        extra = {"context": context} if security == "tls" else {}
        with smtp_class(host, port, timeout=TIMEOUT_SECONDS, **extra) as smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if settings.get("username"):
                smtp.login(settings["username"], channel.secret)
            smtp.send_message(mail)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message.rstrip(".")
        raise DeliveryError(f"SMTP {host}:{port}: the server's certificate is not trusted: {reason} (trust a private "
                            "CA with ca_file; host must be a name the certificate holds)", permanent=True) from None
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, AUTH or SMTPUTF8 where the channel needs it
        raise DeliveryError(f"SMTP {host}:{port} lacks what this channel needs: {exc}", permanent=True) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login to {host}:{port} refused: {exc.smtp_error!r}", permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP server refused the recipients {sorted(exc.recipients)}", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {host}:{port}: {exc.smtp_code} {exc.smtp_error!r}",
                            permanent=500 <= exc.smtp_code < 600) from None
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeout, TLS failure
        raise DeliveryError(f"SMTP {host}:{port}: {exc.__class__.__name__}: {exc}", permanent=False) from None


def _guard(host: str, port: int) -> None:
    """DeliveryError unless the server may be reached (wardsite/outbound.py)."""
    try:
        outbound.check_host(host, port)
    except outbound.OutboundRefused as exc:
        raise DeliveryError(f"SMTP {host}:{port} refused: {exc}", permanent=True) from None
    except outbound.Unresolvable as exc:
        raise DeliveryError(f"SMTP {host}:{port}: {exc}", permanent=False) from None


class _PeerChecked:
    """Mixin for smtplib's clients: the address connected to is checked again (the name may answer otherwise
    now than when it was checked)."""

    def _get_socket(self, host: str, port: int, timeout: float):
        sock = super()._get_socket(host, port, timeout)
        try:
            outbound.check_peer(sock.getpeername()[0])
        except outbound.OutboundRefused as exc:
            sock.close()
            raise DeliveryError(f"SMTP {host}:{port} refused: {exc}", permanent=True) from None
        return sock


class _CheckedSMTP(_PeerChecked, smtplib.SMTP):
    pass


class _CheckedSMTPSSL(_PeerChecked, smtplib.SMTP_SSL):
    pass


def tls_context(settings: dict[str, Any]) -> ssl.SSLContext:
    """The client TLS context: trusting the CA certificates in `ca_file`, else the system's; hostnames checked."""
    ca_file = settings.get("ca_file")
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as exc:  # ssl.SSLError is one too; the file went away or changed since it was saved
        raise DeliveryError(f"ca_file {ca_file}: {exc.__class__.__name__}: {exc}", permanent=True) from None


def check(settings: dict[str, Any]) -> list[str]:
    """Recipients, sender, server, port, security and CA file, each problem naming its key."""
    problems = recipients_problems(settings.get("to"), "to", _email)
    if "from" in settings:
        problems += [f"from: {p}" for p in _email(settings["from"])]
    port = settings.get("port", 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        problems.append("port: give a TCP port, 1 to 65535")
    else:
        problems += _host(settings, port)
    if settings.get("security", "none") not in SMTP_SECURITY:
        problems.append(f"security: one of {', '.join(SMTP_SECURITY)}")
    if "ca_file" in settings:
        problems += [f"ca_file: {p}" for p in _ca_file(settings["ca_file"], settings.get("security", "none"))]
    return problems


def _email(value: Any) -> list[str]:
    try:
        EmailValidator()(value if isinstance(value, str) else "")
    except ValidationError:
        return [f"{quote(value)} is not an email address"]
    return []


def _host(settings: dict[str, Any], port: int) -> list[str]:
    """A server the server may reach; a name that does not resolve (yet) passes: it is checked before sending."""
    host = settings.get("host", DEFAULT_HOST)
    if not isinstance(host, str) or not host.strip():
        return ["host: the mail server's name or address"]
    try:
        outbound.check_host(host, port)
    except outbound.OutboundRefused as exc:
        default = "" if "host" in settings else f" ({DEFAULT_HOST} is the default host: a mail server on this machine)"
        return [f"host: {exc}{default}"]
    except outbound.Unresolvable:
        pass
    return []


def _ca_file(path: Any, security: Any) -> list[str]:
    if security not in ("starttls", "tls"):
        return ["only used with TLS: set security to starttls or tls, or leave ca_file out"]
    if not isinstance(path, str) or not os.path.isabs(path):
        return [f"{quote(path)} is not an absolute path, e.g. /etc/ssl/private-ca.pem"]
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        return [f"{path} is not a readable file"]
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        return [f"{path} holds no PEM CA certificate"]
    return []


register(Channel("email", "Email (SMTP)", frozenset({"to", "from", "host", "port", "security", "username", "ca_file"}),
                 send, check))
