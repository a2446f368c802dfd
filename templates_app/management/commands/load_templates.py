from django.core.management.base import BaseCommand

from templates_app.library import load_defaults


class Command(BaseCommand):
    help = ("Load the default template library (templates_app/defaults/): create missing templates, upgrade "
            "unedited ones to newer versions, keep local edits (migrate does this too).")

    def handle(self, *args, **options) -> None:
        report = load_defaults()
        for label, keys in (("created", report.created), ("upgraded", report.upgraded),
                            ("kept local edits", report.kept_local_edits), ("unchanged", report.unchanged)):
            if keys:
                self.stdout.write(f"{label}: {', '.join(keys)}")
