import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a random password, printed once; do nothing if it exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"User '{username}' exists; its password was printed when it was created.")
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(username, f"{username}@localhost", password)
        self.stdout.write(self.style.SUCCESS(f"Created superuser '{username}' with password: {password}"))
        self.stdout.write("This password is shown only once; change it in the admin.")
