"""Shared fixtures: users of each role, API clients."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from rest_framework.test import APIClient

from wardsite.roles import ADMINISTRATOR, OPERATOR, VIEWER


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> None:
    """Tests make users by the hundred: MD5 instead of PBKDF2's 1,000,000 rounds (~0.6 s a user)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user_of(role: str) -> User:
    user = User.objects.create_user(role.lower(), password=f"{role.lower()}-pass-123")
    user.groups.add(Group.objects.get(name=role))  # the groups of migration wardsite 0001
    return user


def user_with(*perms: str) -> User:
    """A new user with exactly these permissions ("app_label.codename")."""
    user = User.objects.create_user(f"user{User.objects.count()}")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.fixture
def viewer(db) -> User:
    """A user of the Viewer role: reads inventory, state and alerts; changes nothing."""
    return _user_of(VIEWER)


@pytest.fixture
def operator(db) -> User:
    """A user of the Operator role: also adds and edits devices, acknowledges alerts, polls, scans."""
    return _user_of(OPERATOR)


@pytest.fixture
def administrator(db) -> User:
    """A user of the Administrator role: also configures rules, channels, credentials, Zabbix; reads the audit."""
    return _user_of(ADMINISTRATOR)


@pytest.fixture
def api(admin_user) -> APIClient:
    """An API client logged in as a superuser (pytest-django's admin_user)."""
    return api_client_for(admin_user)


def api_client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def snmp_counter_state() -> None:
    """No counter samples nor interface ranking (snmp.busiest) left in Redis from earlier tests (device ids repeat
    between test databases)."""
    from snmp import busiest
    from snmp.counter_state import KEY
    from wardsite import kv

    connection = kv.connection()
    for key in connection.scan_iter(KEY.format(device_id="*")):
        connection.delete(key)
    connection.delete(busiest.KEY, busiest.SEEN)
