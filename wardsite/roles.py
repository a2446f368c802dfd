"""The three roles, as Django groups: Viewer, Operator and Administrator (docs/permissions.md).

A role is a list of model permissions, kept here in one table. Migration wardsite 0001 creates the groups and every
`migrate` grants each role what the table gives it (new models included), so a role never lags behind the code. It
only adds: what an administrator granted a group by hand stays; for a variation, make a group of your own.
"""
from __future__ import annotations

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions

VIEWER, OPERATOR, ADMINISTRATOR = "Viewer", "Operator", "Administrator"

# The apps whose objects are the monitor's: a Viewer reads all of them but the secret-bearing models below.
MONITOR_APPS = ("devices", "snmp", "icmp", "alerts", "discovery", "templates_app", "zabbix_bridge")
SECRET_BEARING = {"snmp.snmpcredential", "alerts.notificationchannel", "zabbix_bridge.zabbixserver",
                  "discovery.rulecredential"}

# What an Operator may do beyond reading: run the network day to day, not configure the monitor.
OPERATOR_EXTRA = {
    "devices": ["add_device", "change_device", "add_deviceaddress", "change_deviceaddress", "delete_deviceaddress"],
    "icmp": ["add_pingsettings", "change_pingsettings", "delete_pingsettings"],
    "snmp": ["view_snmpcredential", "use_snmpcredential", "add_monitoringitem", "change_monitoringitem",
             "delete_monitoringitem", "change_interface"],
    "alerts": ["change_alert", "add_maintenancewindow", "change_maintenancewindow", "delete_maintenancewindow"],
    "discovery": ["add_discoveryrun"],
}


def role_permissions(available: set[tuple[str, str]]) -> dict[str, set[tuple[str, str]]]:
    """Each role's (app_label, codename) pairs, out of the permissions that exist."""
    viewer = {(app, code) for app, code in available if app in MONITOR_APPS and code.startswith("view_")
              and f"{app}.{code.removeprefix('view_')}" not in SECRET_BEARING}
    operator = viewer | ({(app, code) for app, codes in OPERATOR_EXTRA.items() for code in codes} & available)
    return {VIEWER: viewer, OPERATOR: operator, ADMINISTRATOR: set(available)}


def sync_roles(apps: Apps = global_apps, **_signal_kwargs) -> None:
    """Create the permissions of every app (Django makes them only after all migrations) and the three groups, and
    grant each group its role's permissions. Used by migration 0001 and after every `migrate` (post_migrate)."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    group_model, permission_model = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    permissions = {(p.content_type.app_label, p.codename): p
                   for p in permission_model.objects.select_related("content_type")}
    for name, pairs in role_permissions(set(permissions)).items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*(permissions[pair] for pair in pairs))
