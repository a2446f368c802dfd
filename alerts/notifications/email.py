"""Email over SMTP: plain, STARTTLS or implicit TLS, with login when a username is set."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from alerts.models import NotificationChannel
from alerts.notifications.base import TIMEOUT_SECONDS, DeliveryError
from alerts.notifications.message import Message

DEFAULT_FROM = "wardflux@localhost"


def send(channel: NotificationChannel, message: Message) -> None:
    settings = channel.settings
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.get("from", DEFAULT_FROM)
    mail["To"] = ", ".join(settings["to"])
    mail.set_content(message.text)
    host, port, security = settings.get("host", "127.0.0.1"), settings.get("port", 25), settings.get("security", "none")
    context = tls_context(settings) if security != "none" else None
    try:
        smtp_class = smtplib.SMTP_SSL if security == "tls" else smtplib.SMTP
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


def tls_context(settings: dict[str, Any]) -> ssl.SSLContext:
    """The client TLS context: trusting the CA certificates in `ca_file`, else the system's; hostnames checked."""
    ca_file = settings.get("ca_file")
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as exc:  # ssl.SSLError is one too; the file went away or changed since it was saved
        raise DeliveryError(f"ca_file {ca_file}: {exc.__class__.__name__}: {exc}", permanent=True) from None
