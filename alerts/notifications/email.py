"""Email over SMTP: plain, STARTTLS or implicit TLS, with login when a username is set."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

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
    try:
        smtp_class = smtplib.SMTP_SSL if security == "tls" else smtplib.SMTP
        extra = {"context": ssl.create_default_context()} if security == "tls" else {}
        with smtp_class(host, port, timeout=TIMEOUT_SECONDS, **extra) as smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("username"):
                smtp.login(settings["username"], channel.secret)
            smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login to {host}:{port} refused: {exc.smtp_error!r}", permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP server refused the recipients {sorted(exc.recipients)}", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {host}:{port}: {exc.smtp_code} {exc.smtp_error!r}",
                            permanent=500 <= exc.smtp_code < 600) from None
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeout, TLS failure
        raise DeliveryError(f"SMTP {host}:{port}: {exc.__class__.__name__}: {exc}", permanent=False) from None
