from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wardsite.api_tokens import token_infos


class Command(BaseCommand):
    help = "List the API tokens that have not expired (their first characters, never the keys); see docs/api.md."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="only this user's tokens")

    def handle(self, *args, username: str | None, **options) -> None:
        user = None
        if username is not None:
            try:
                user = get_user_model().objects.get_by_natural_key(username)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {username!r}", returncode=2) from None
        infos = token_infos(user)
        for info in infos:
            expiry = info.expiry.isoformat(timespec="seconds") if info.expiry else "never"
            self.stdout.write(f"{info.prefix}  {info.user}  created {info.created.isoformat(timespec='seconds')}  "
                              f"expires {expiry}")
        if not infos:
            self.stderr.write("no tokens")
