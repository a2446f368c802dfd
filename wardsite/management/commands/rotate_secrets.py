from django.core.management.base import BaseCommand, CommandError

from wardsite.secrets import SecretDecryptionError, rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key in FERNET_KEYS. Put the new key first, keep the "
        "old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options) -> None:
        try:
            counts = rotate_all()
        except SecretDecryptionError as exc:
            raise CommandError(f"{exc}; nothing was changed") from None
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS("All secrets are encrypted with the newest key."))
