from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wardsite.api_tokens import TokenError, revoke, revoke_all


class Command(BaseCommand):
    help = ("Revoke an API token, named by its first characters as list_api_tokens shows them, or with --user "
            "every token of a user. A revoked token is refused at once.")

    def add_arguments(self, parser):
        parser.add_argument("prefix", nargs="?", help="the token's first characters (8 or more)")
        parser.add_argument("--user", metavar="USERNAME", help="revoke every token of this user")

    def handle(self, *args, prefix: str | None, user: str | None, **options) -> None:
        if (prefix is None) == (user is None):
            raise CommandError("give either a token's first characters or --user USERNAME", returncode=2)
        if user is not None:
            try:
                owner = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {user!r}", returncode=2) from None
            self.stdout.write(f"revoked {revoke_all(owner)} tokens of {user}")
            return
        try:
            info = revoke(prefix)
        except TokenError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"revoked token {info.prefix} of {info.user}")
