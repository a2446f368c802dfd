import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wardsite.config_io import ConfigError, export_document, section_names

CLEAR_TEXT = ("warning: the document holds the secrets (SNMP communities and keys, channel and Zabbix secrets) in "
              "clear text: keep it out of git and anywhere others can read")


class Command(BaseCommand):
    help = ("Write the configuration (devices, credentials, templates, rules, discovery...) as one YAML document, "
            "for import_config; secrets only with --with-secrets. See docs/configuration.md.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")
        parser.add_argument("--with-secrets", action="store_true",
                            help="include the secrets, in clear text (the file is made readable by you only)")
        parser.add_argument("--section", nargs="+", action="extend", default=[], metavar="NAME",
                            help=f"only these sections: {', '.join(section_names())}")

    def handle(self, *args, output: str | None, with_secrets: bool, section: list[str], **options) -> None:
        try:
            text = export_document(section, with_secrets=with_secrets)
        except ConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if with_secrets:
            self.stderr.write(self.style.WARNING(CLEAR_TEXT))
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            write_file(output, text, private=with_secrets)
        except OSError as exc:
            raise CommandError(f"{output}: {exc.strerror}", returncode=2) from None
        self.stderr.write(f"Wrote {output}" + (" (mode 0600)" if with_secrets else ""))


def write_file(path: str, text: str, *, private: bool) -> None:
    """Write `text` to `path`; `private`: readable and writable by the owner only, an existing file included."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    if private:
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
