"""`/api/v1/auth/`: a user makes, lists and revokes their own API tokens (django-rest-knox; docs/api.md).

A token is made from a session (the admin login) or from a username and password, never from another token: a
leaked token must not be able to outlive its own expiry by minting new ones.
"""
from __future__ import annotations

from django.contrib.auth import authenticate
from django.urls import re_path
from drf_spectacular.utils import extend_schema
from knox.views import LoginView, LogoutAllView, LogoutView
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wardsite.api_tokens import (
    TokenAuthentication, TokenError, create_token, default_lifetime, describe_lifetime, parse_lifetime, revoke,
    shown_prefix, token_infos,
)

app_name = "auth-api"


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, help_text="With `password`; not needed when logged in.")
    password = serializers.CharField(required=False, write_only=True, style={"input_type": "password"})
    expires = serializers.CharField(required=False, help_text="How long the token lasts: `90d`, `12h`, `2w`… "
                                    "or `never`; at most API_TOKEN_TTL (the default) when that is set.")

    def validate_expires(self, value: str):
        try:
            lifetime = parse_lifetime(value)
        except TokenError as exc:
            raise serializers.ValidationError(str(exc)) from None
        longest = default_lifetime()
        if longest is not None and (lifetime is None or lifetime > longest):
            raise serializers.ValidationError(f"at most {describe_lifetime(longest)} (API_TOKEN_TTL)")
        return lifetime

    def validate(self, attrs: dict) -> dict:
        request = self.context["request"]
        if "username" in attrs or "password" in attrs:
            for name in ("username", "password"):
                if not attrs.get(name):
                    raise serializers.ValidationError({name: "This field is required."})
            user = authenticate(request, username=attrs["username"], password=attrs["password"])
            if user is None:
                raise serializers.ValidationError({"password": "Wrong username or password, or inactive user."})
            attrs["user"] = user
        elif request.user.is_authenticated:
            attrs["user"] = request.user
        else:
            raise serializers.ValidationError({"username": "This field is required (or log in first)."})
        attrs.setdefault("expires", default_lifetime())
        return attrs


class TokenSerializer(serializers.Serializer):
    prefix = serializers.CharField(help_text="The key's first characters: how listings and revoking name it.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True, help_text="null: never expires.")


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The key, for `Authorization: Token <key>`; shown only this once.")
    user = serializers.CharField()


class TokenLoginView(LoginView):
    """Make a token for the logged-in user, or for the username and password given; its key is shown once."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]  # the credentials are checked by the serializer
    throttle_scope = "login"

    @extend_schema(request=TokenRequestSerializer, responses={201: NewTokenSerializer}, auth=[])
    def post(self, request: Request, format: str | None = None) -> Response:
        form = TokenRequestSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        token, key = create_token(form.validated_data["user"], form.validated_data["expires"])
        body = {"token": key, "prefix": shown_prefix(token), "created": token.created, "expiry": token.expiry,
                "user": token.user.get_username()}
        return Response(NewTokenSerializer(body).data, status=status.HTTP_201_CREATED)


class TokenLogoutView(LogoutView):
    """Revoke the token this request is made with."""

    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: str | None = None) -> Response:
        if request.auth is None:  # e.g. an authentication class added beside knox's: no token to revoke
            raise ValidationError({"detail": "this request was not made with a token; revoke one at tokens/{prefix}"})
        return super().post(request, format)


class TokenLogoutAllView(LogoutAllView):
    """Revoke every token of the user (from a token or from the session)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format)


class TokenListView(APIView):
    """The user's own tokens that have not expired, oldest first (never their keys)."""

    permission_classes = [IsAuthenticated]  # every user sees and revokes only their own

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(TokenSerializer(token_infos(request.user), many=True).data)


class TokenDetailView(APIView):
    """Revoke one of the user's own tokens, named by its first characters."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, prefix: str) -> Response:
        try:
            revoke(prefix, user=request.user)
        except TokenError as exc:
            raise NotFound(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    re_path(r"^login/?$", TokenLoginView.as_view(), name="login"),
    re_path(r"^logout/?$", TokenLogoutView.as_view(), name="logout"),
    re_path(r"^logoutall/?$", TokenLogoutAllView.as_view(), name="logoutall"),
    re_path(r"^tokens/?$", TokenListView.as_view(), name="tokens"),
    re_path(r"^tokens/(?P<prefix>[^/]+)/?$", TokenDetailView.as_view(), name="token"),
]
