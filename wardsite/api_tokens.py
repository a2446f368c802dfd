"""API tokens (django-rest-knox): made for a user with an expiry, shown once, stored only as a hash, revoked.

A token is named by its first characters (`shown_prefix`), which the listing, the admin and the commands show:
knox keeps the first 15 in clear to find the row, the rest of the 64 exists only as a SHA-512 digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken

from wardsite.durations import format_duration, parse_duration

SHOWN_PREFIX = 8  # characters of a key that name it in listings (32 of its 256 random bits)
NEVER = "never"


class TokenError(ValueError):
    """A token request that cannot be carried out (bad expiry, unknown or ambiguous prefix)."""


def default_lifetime() -> timedelta | None:
    """API_TOKEN_TTL as a timedelta; None: tokens do not expire."""
    return None if settings.API_TOKEN_TTL is None else timedelta(seconds=settings.API_TOKEN_TTL)


def parse_lifetime(text: str | None) -> timedelta | None:
    """`90d`, `12h`… or `never`; None or empty: the default lifetime (API_TOKEN_TTL)."""
    if text is None or not str(text).strip():
        return default_lifetime()
    if str(text).strip().lower() == NEVER:
        return None
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as exc:
        raise TokenError(f"{exc}, or {NEVER}") from None


def describe_lifetime(lifetime: timedelta | None) -> str:
    return NEVER if lifetime is None else format_duration(int(lifetime.total_seconds()))


def create_token(user: AbstractBaseUser, lifetime: timedelta | None) -> tuple[AuthToken, str]:
    """A new token for `user` lasting `lifetime` (None: forever): (the stored row, the key, to be shown once)."""
    return AuthToken.objects.create(user=user, expiry=lifetime)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication without its sweep of the user's other tokens on every request (a query of all
    of them, and deletes inside a GET: a fifth of the CPU of a request that reads no table). An expired token is
    refused all the same; expired tokens stay, listed under *Expired* in the admin, until someone deletes them."""

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        """Whether the token has expired (knox's hook: True skips it, and the request is refused)."""
        return auth_token.expiry is not None and auth_token.expiry < timezone.now()


class TokenScheme(KnoxTokenScheme):
    """The API schema's word for TokenAuthentication: knox's (`Authorization: Token <key>`)."""

    target_class = TokenAuthentication


def live_tokens() -> QuerySet[AuthToken]:
    """Tokens not yet expired (expired ones stay until deleted: TokenAuthentication)."""
    return AuthToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


def shown_prefix(token: AuthToken) -> str:
    return token.token_key[:SHOWN_PREFIX]


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown of a token: never its key."""

    prefix: str
    user: str
    created: datetime
    expiry: datetime | None


def token_infos(user: AbstractBaseUser | None = None) -> list[TokenInfo]:
    """The live tokens of `user` (of everyone when None), oldest first."""
    tokens = live_tokens().select_related("user").order_by("created")
    if user is not None:
        tokens = tokens.filter(user=user)
    return [TokenInfo(shown_prefix(t), t.user.get_username(), t.created, t.expiry) for t in tokens]


def revoke(prefix: str, user: AbstractBaseUser | None = None) -> TokenInfo:
    """Delete the one token whose key starts with `prefix` (of `user` only, when given); TokenError otherwise."""
    prefix = prefix.strip()
    if len(prefix) < SHOWN_PREFIX:
        raise TokenError(f"give at least the first {SHOWN_PREFIX} characters of the token, as listed")
    tokens = AuthToken.objects.filter(token_key__startswith=prefix[:15]).select_related("user")
    if user is not None:
        tokens = tokens.filter(user=user)
    found = list(tokens[:2])
    if not found:
        raise TokenError(f"no token starts with {prefix[:SHOWN_PREFIX]!r}")
    if len(found) > 1:
        raise TokenError(f"more than one token starts with {prefix!r}: give more characters")
    token = found[0]
    info = TokenInfo(shown_prefix(token), token.user.get_username(), token.created, token.expiry)
    token.delete()
    return info


def revoke_all(user: AbstractBaseUser) -> int:
    """Delete every token of `user`; how many there were."""
    return user.auth_token_set.all().delete()[0]
