import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wardsite.config_import import ImportReport, import_document
from wardsite.config_io import ConfigError


class Command(BaseCommand):
    help = ("Create or update the configuration a document of export_config holds, by name, all or nothing; "
            "nothing is deleted. See docs/configuration.md.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the YAML document ('-': standard input)")
        parser.add_argument("--dry-run", action="store_true", help="check everything and say what would change; "
                                                                   "change nothing")

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}", returncode=2) from None
        try:
            report = import_document(text, dry_run=dry_run)
        except ConfigError as exc:
            problems = "\n".join(f"  {problem}" for problem in exc.problems)
            raise CommandError(f"{file}: nothing was imported:\n{problems}", returncode=2) from None
        self._tell(report, dry_run)

    def _tell(self, report: ImportReport, dry_run: bool) -> None:
        for name in report.sections:
            created, updated = report.created[name], report.updated[name]
            self.stdout.write(f"{name}: {created} {'to create' if dry_run else 'created'}, "
                              f"{updated} {'to update' if dry_run else 'updated'}")
        for where in report.need_secrets:
            self.stderr.write(self.style.WARNING(f"needs a secret: {where} (none in the document or stored: set it "
                                                 "in the admin)"))
        self.stdout.write(self.style.SUCCESS("Dry run: nothing was changed." if dry_run else "Imported."))
