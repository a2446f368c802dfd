"""API tokens: made by a command or by the API, shown once, stored hashed, expiring, revoked one by one or all."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def make_token(capsys, *args: str) -> str:
    """The key create_api_token prints: all of its standard output."""
    call_command("create_api_token", *args)
    out = capsys.readouterr().out
    assert re.fullmatch(r"[0-9a-f]{64}\n", out), out
    return out.strip()


def refused(response) -> bool:
    """Refused for its token: 401, or 403 where the session is tried first (DRF answers with the first scheme)."""
    return response.status_code in (401, 403) and response.json()["detail"] in (
        "Invalid token.", "Authentication credentials were not provided.")


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_prints_the_key_alone_and_stores_only_its_hash(admin_user, capsys):
    key = make_token(capsys, admin_user.username)
    assert client_with(key).get("/api/v1/devices/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        (digest, token_key), = cursor.fetchall()
    assert key not in digest and token_key == key[:15]  # knox keeps 15 characters in clear to find the row


def test_a_token_lasts_api_token_ttl_unless_told_otherwise(admin_user, capsys, settings):
    settings.API_TOKEN_TTL = 365 * 86400
    make_token(capsys, admin_user.username)
    make_token(capsys, admin_user.username, "--expires", "12h")
    make_token(capsys, admin_user.username, "--expires", "never")
    now = timezone.now()
    default, short, never = AuthToken.objects.order_by("created")
    assert abs(default.expiry - now - timedelta(days=365)) < timedelta(minutes=1)
    assert abs(short.expiry - now - timedelta(hours=12)) < timedelta(minutes=1)
    assert never.expiry is None


def test_an_expired_token_is_refused(admin_user, capsys):
    key = make_token(capsys, admin_user.username, "--expires", "1h")
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = client_with(key).get("/api/v1/devices/")
    assert refused(response) and response.json() == {"detail": "Invalid token."}


def test_a_request_reads_its_own_token_alone_and_leaves_an_expired_one_for_the_admin(admin_user, capsys):
    from django.test.utils import CaptureQueriesContext

    old = make_token(capsys, admin_user.username, "--expires", "1h")
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    key = make_token(capsys, admin_user.username)
    with CaptureQueriesContext(connection) as queries:
        assert client_with(key).get("/api/v1/").status_code == 200
    assert len(queries) == 1 and "knox_authtoken" in queries[0]["sql"]  # not the user's other tokens too
    assert AuthToken.objects.filter(token_key=old[:15]).exists()  # under Expired in the admin, not deleted in a GET
    assert refused(client_with(old).get("/api/v1/devices/"))


def test_the_schema_says_how_to_send_a_token(admin_client):
    schema = admin_client.get("/api/v1/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["knoxApiToken"]
    assert (scheme["in"], scheme["name"], scheme["description"]) == (
        "header", "Authorization", 'Token-based authentication with required prefix "Token"')
    assert {"knoxApiToken": []} in schema["paths"]["/api/v1/devices/"]["get"]["security"]


@pytest.mark.parametrize(("args", "message"), [
    (["nobody"], "no user 'nobody'"),
    (["admin", "--expires", "soon"], "--expires: 'soon' is not a duration"),
    (["admin", "--expires", "0d"], "a duration must be longer than 0"),
])
def test_it_refuses_bad_input_with_exit_status_2(admin_user, args, message):
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("create_api_token", *args)
    assert error.value.returncode == 2
    assert not AuthToken.objects.exists()


def test_it_lists_tokens_by_their_first_characters_never_the_keys(admin_user, capsys):
    key = make_token(capsys, admin_user.username, "--expires", "2w")
    expired = make_token(capsys, admin_user.username)
    AuthToken.objects.filter(token_key=expired[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    call_command("list_api_tokens", admin_user.username)
    out = capsys.readouterr().out
    assert out.startswith(f"{key[:8]}  admin  created ") and "expires 20" in out
    assert key[:9] not in out and expired[:8] not in out and len(out.splitlines()) == 1


def test_a_revoked_token_is_refused_at_once_and_the_others_still_work(admin_user, capsys):
    first, second = make_token(capsys, "admin"), make_token(capsys, "admin")
    call_command("revoke_api_token", first[:8])
    assert capsys.readouterr().out == f"revoked token {first[:8]} of admin\n"
    assert refused(client_with(first).get("/api/v1/devices/"))
    assert client_with(second).get("/api/v1/devices/").status_code == 200


def test_it_revokes_every_token_of_a_user(admin_user, capsys):
    keys = [make_token(capsys, "admin") for _ in range(3)]
    call_command("revoke_api_token", "--user", "admin")
    assert capsys.readouterr().out == "revoked 3 tokens of admin\n"
    assert all(refused(client_with(key).get("/api/v1/devices/")) for key in keys)


@pytest.mark.parametrize(("args", "message"), [
    ([], "give either a token's first characters or --user USERNAME"),
    (["abc"], "give at least the first 8 characters"),
    (["00000000"], "no token starts with '00000000'"),
    (["--user", "nobody"], "no user 'nobody'"),
])
def test_revoking_refuses_bad_input_with_exit_status_2(admin_user, capsys, args, message):
    key = make_token(capsys, "admin")
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("revoke_api_token", *args)
    assert error.value.returncode == 2
    assert client_with(key).get("/api/v1/devices/").status_code == 200


# --- the API: /api/v1/auth/ --------------------------------------------------------------------------------------

@pytest.fixture
def operator() -> User:
    return User.objects.create_user("op", password="op-secret-123")


def test_it_makes_a_token_from_a_username_and_password(operator):
    response = APIClient().post("/api/v1/auth/login", {"username": "op", "password": "op-secret-123",
                                                       "expires": "7d"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"] == "op" and body["prefix"] == body["token"][:8]
    token = AuthToken.objects.get(user=operator)
    assert abs(token.expiry - timezone.now() - timedelta(days=7)) < timedelta(minutes=1)
    assert client_with(body["token"]).get("/api/v1/auth/tokens").json() == [
        {"prefix": body["prefix"], "created": body["created"], "expiry": body["expiry"]}]


def test_it_makes_a_token_for_the_logged_in_session(operator):
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(operator)
    response = client.post("/api/v1/auth/login/", {}, format="json")
    assert response.status_code == 201 and response.json()["user"] == "op"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "username"),
    ({"username": "op"}, "password"),
    ({"username": "op", "password": "wrong"}, "password"),
    ({"username": "op", "password": "op-secret-123", "expires": "soon"}, "expires"),
    ({"username": "op", "password": "op-secret-123", "expires": "never"}, "expires"),  # longer than API_TOKEN_TTL
    ({"username": "op", "password": "op-secret-123", "expires": "400d"}, "expires"),
])
def test_it_refuses_a_bad_token_request_naming_the_field(operator, settings, body, field):
    settings.API_TOKEN_TTL = 365 * 86400
    response = APIClient().post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 400 and list(response.json()) == [field], response.json()
    assert not AuthToken.objects.exists()


def test_a_token_cannot_make_another_token(operator):
    _, key = AuthToken.objects.create(user=operator, expiry=timedelta(hours=1))
    response = client_with(key).post("/api/v1/auth/login", {}, format="json")
    assert response.status_code == 400 and "username" in response.json()
    assert AuthToken.objects.count() == 1


def test_logout_revokes_the_token_used_and_logoutall_every_token(operator):
    keys = [AuthToken.objects.create(user=operator, expiry=None)[1] for _ in range(3)]
    assert client_with(keys[0]).post("/api/v1/auth/logout").status_code == 204
    assert refused(client_with(keys[0]).get("/api/v1/auth/tokens"))
    assert len(client_with(keys[1]).get("/api/v1/auth/tokens").json()) == 2
    assert client_with(keys[1]).post("/api/v1/auth/logoutall/").status_code == 204
    assert refused(client_with(keys[2]).get("/api/v1/auth/tokens"))


def test_a_user_sees_and_revokes_only_their_own_tokens(operator, admin_user):
    _, own = AuthToken.objects.create(user=operator, expiry=None)
    _, others = AuthToken.objects.create(user=admin_user, expiry=None)
    client = client_with(own)
    assert [t["prefix"] for t in client.get("/api/v1/auth/tokens").json()] == [own[:8]]
    assert client.delete(f"/api/v1/auth/tokens/{others[:8]}").status_code == 404
    assert client_with(others).get("/api/v1/devices/").status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{own[:8]}/").status_code == 204
    assert refused(client_with(own).get("/api/v1/auth/tokens"))


# --- the admin ----------------------------------------------------------------------------------------------------

def test_the_admin_lists_tokens_without_keys_and_revokes_them(admin_client, operator):
    token, key = AuthToken.objects.create(user=operator, expiry=None)
    page = admin_client.get("/admin/knox/authtoken/").content.decode()
    assert f"{key[:8]}…" in page and key[:9] not in page  # (its digest, a one-way hash, names the row)
    assert admin_client.get("/admin/knox/authtoken/add/").status_code == 403
    response = admin_client.post("/admin/knox/authtoken/", {"action": "delete_selected", "_selected_action":
                                                            [token.pk], "post": "yes"})
    assert response.status_code == 302 and not AuthToken.objects.exists()
    assert refused(client_with(key).get("/api/v1/devices/"))
