"""The Viewer, Operator and Administrator groups (wardsite/roles.py; docs/permissions.md)."""
from django.db import migrations

from wardsite.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("devices", "0004_inventory_fields_source_both"),
        ("snmp", "0006_credential_bounds"),
        ("icmp", "0001_initial"),
        ("alerts", "0008_alert_source"),
        ("discovery", "0001_initial"),
        ("templates_app", "0001_initial"),
        ("zabbix_bridge", "0001_servers_hosts_problems"),
    ]

    operations = [
        migrations.RunPython(lambda apps, schema_editor: sync_roles(apps), migrations.RunPython.noop),
    ]
