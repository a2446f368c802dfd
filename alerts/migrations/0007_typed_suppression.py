"""Alert.suppressed_by (free text, also read as a type tag) becomes a typed `suppression` and its words,
`suppression_detail`; channel kinds come from the channel registry."""
from django.db import migrations, models

import alerts.notifications

# The texts the engine wrote, most specific first: (test on the text, the suppression it stands for).
KINDS = (
    (lambda text: text.startswith("maintenance "), "maintenance"),
    (lambda text: text.startswith("flapping"), "flapping"),
    (lambda text: " was down until " in text and text.endswith("depends on it)"), "parent_recovering"),
    (lambda text: " was down until " in text, "recovering"),
    (lambda text: " is down" in text and text.endswith("depends on it)"), "parent_down"),
)


def suppression_of(text: str) -> str:
    """The type of a suppressed_by text; "device_down" for any other (the engine wrote only these shapes)."""
    return next((kind for test, kind in KINDS if test(text)), "device_down")


def classify(apps, schema_editor) -> None:
    Alert = apps.get_model("alerts", "Alert")
    suppressed = Alert.objects.exclude(suppression_detail="")
    for text in suppressed.values_list("suppression_detail", flat=True).distinct():
        suppressed.filter(suppression_detail=text).update(suppression=suppression_of(text))


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0006_builtin_rules'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notificationchannel',
            name='kind',
            field=models.CharField(choices=alerts.notifications.channel_kinds, max_length=10),
        ),
        migrations.RenameField(
            model_name='alert',
            old_name='suppressed_by',
            new_name='suppression_detail',
        ),
        migrations.AlterField(
            model_name='alert',
            name='suppression_detail',
            field=models.CharField(blank=True, help_text="The suppression in words, e.g. 'core-1 is down (edge-1 depends on it)'.", max_length=300),
        ),
        migrations.AddField(
            model_name='alert',
            name='suppression',
            field=models.CharField(blank=True, choices=[('maintenance', 'Maintenance window'), ('device_down', 'Device down'), ('parent_down', 'A device it depends on is down'), ('recovering', 'Device just back up'), ('parent_recovering', 'A device it depends on just came back'), ('flapping', 'Flapping')], help_text='Why nobody is told it fires; blank: people are told.', max_length=20),
        ),
        migrations.RunPython(classify, migrations.RunPython.noop),
    ]
