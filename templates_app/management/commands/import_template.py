from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from templates_app.document import DocumentError
from templates_app.library import import_text


class Command(BaseCommand):
    help = ("Create or replace a monitoring template from a document file (JSON or YAML, docs/templates.md) or a "
            "Zabbix 6.0/7.0 template export (YAML or XML). Nothing is saved from a file with errors.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the document or export")

    def handle(self, *args, file: Path, **options) -> None:
        try:
            text = file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=2) from None
        try:
            result = import_text(text, filename=file.name)
        except DocumentError as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        for template in result.templates:
            self.stdout.write(f"{template.key}: {template.name} (version {template.version}), "
                              f"{template.items.count()} items, {template.triggers.count()} triggers")
        for line in result.skipped:
            self.stdout.write(f"skipped {line}")
