"""Shared fixtures: users of each role, API clients."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> None:
    """Tests make users by the hundred: MD5 instead of PBKDF2's 1,000,000 rounds (~0.6 s a user)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def viewer(db) -> User:
    """A logged-in user with no model permissions: may read, may not change."""
    return User.objects.create_user("viewer", password="viewer-pass-123")


@pytest.fixture
def operator(db) -> User:
    """May add and change devices, nothing else."""
    user = User.objects.create_user("operator", password="operator-pass-123")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="devices", codename__in=["add_device", "change_device"])
    )
    return user


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
    """No counter samples left in Redis from earlier tests (device ids repeat between test databases)."""
    from snmp.services import COUNTERS_KEY
    from wardsite import kv

    connection = kv.connection()
    for key in connection.scan_iter(COUNTERS_KEY.format(device_id="*")):
        connection.delete(key)
