from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wardsite.api_tokens import TokenError, create_token, describe_lifetime, parse_lifetime


class Command(BaseCommand):
    help = ("Make an API token for a user and print its key, alone on standard output, this once "
            "(TOKEN=$(manage.py create_api_token admin)); only a hash of it is stored. See docs/api.md.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--expires", metavar="DURATION",
                            help="how long it lasts: 90d, 12h, 2w… or never (default: API_TOKEN_TTL)")

    def handle(self, *args, username: str, expires: str | None, **options) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}", returncode=2) from None
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive: a token of theirs would be refused", returncode=2)
        try:
            lifetime = parse_lifetime(expires)
        except TokenError as exc:
            raise CommandError(f"--expires: {exc}", returncode=2) from None
        token, key = create_token(user, lifetime)
        self.stdout.write(key)
        until = token.expiry.isoformat(timespec="seconds") if token.expiry else "never expires"
        self.stderr.write(f"token {key[:8]}… for {username} ({describe_lifetime(lifetime)}: {until}); "
                          "this key is shown only now")
