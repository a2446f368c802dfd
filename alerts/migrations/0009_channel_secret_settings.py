"""A channel's settings that carry tokens (the URL of chats, webhooks and the SMS API; webhook headers) move out
of the plain `settings` into the encrypted `secret_settings`."""
from django.db import migrations, models

import wardsite.secrets

# the kinds' secret settings when this migration was written (alerts.notifications.channels declare them)
SECRET_SETTINGS = {"slack": ("url",), "teams": ("url",), "discord": ("url",), "sms": ("url",),
                   "webhook": ("url", "headers")}


def move(apps, from_field: str, to_field: str) -> None:
    NotificationChannel = apps.get_model("alerts", "NotificationChannel")
    for channel in NotificationChannel.objects.filter(kind__in=SECRET_SETTINGS):
        source, target = getattr(channel, from_field), getattr(channel, to_field)
        for key in SECRET_SETTINGS[channel.kind]:
            if key in source:
                target[key] = source.pop(key)
        NotificationChannel.objects.filter(pk=channel.pk).update(**{from_field: source, to_field: target})


def encrypt(apps, schema_editor) -> None:
    move(apps, "settings", "secret_settings")


def decrypt(apps, schema_editor) -> None:
    move(apps, "secret_settings", "settings")


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0008_alert_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationchannel",
            name="secret_settings",
            field=wardsite.secrets.SecretJSONField(
                blank=True, default=dict, max_length=10000,
                help_text="The settings that carry tokens, stored encrypted and never shown: only a URL's scheme and "
                          "host and the header names are."),
        ),
        migrations.AlterField(
            model_name="notificationchannel",
            name="settings",
            field=models.JSONField(
                blank=True, default=dict,
                help_text="The kind's settings, e.g. {\"url\": \"https://...\"} for chats and webhooks, {\"to\": "
                          "[\"noc@example.com\"]} for email; see docs/alerts.md. Those carrying tokens (url of chats, "
                          "webhooks and SMS; webhook headers) are moved to the encrypted secret settings when saved; "
                          "left out, the stored ones are kept."),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
