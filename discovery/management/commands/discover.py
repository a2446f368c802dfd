import sys

from django.core.management.base import BaseCommand, CommandError

from discovery import inventory, scanner
from discovery import targets as target_lists
from snmp.models import SNMPCredential

BAR = 30


class Command(BaseCommand):
    help = ("Scan networks, ranges or addresses now (ICMP sweep, then SNMP with the credentials given, in order) and "
            "list what answered; --add puts the SNMP devices found into monitoring. Exit status 2 for a bad or "
            "refused target (the allow-list, the size limit), 1 if the scan failed.")

    def add_arguments(self, parser):
        parser.add_argument("targets", nargs="+", help="e.g. 10.0.0.0/24 10.0.1.10-10.0.1.50 10.0.2.7")
        parser.add_argument("--exclude", action="append", default=[], metavar="TARGET", help="never probe these")
        parser.add_argument("--credential", action="append", default=[], metavar="NAME",
                            help="SNMP credential to try (repeat it; tried in order)")
        parser.add_argument("--add", action="store_true",
                            help="add the SNMP devices found that are not monitored yet, with the credential that "
                                 "worked and the auto-selected template")

    def handle(self, *args, targets: list[str], exclude: list[str], credential: list[str], add: bool, **options):
        found = {c.name: c.pk for c in SNMPCredential.objects.filter(name__in=credential)}
        if unknown := [name for name in credential if name not in found]:
            raise CommandError(f"unknown SNMP credential {', '.join(map(repr, unknown))}", returncode=2)
        try:
            run = scanner.start(target_text=" ".join(targets), exclusions=" ".join(exclude),
                                credential_ids=[found[name] for name in credential])
        except (target_lists.TargetError, target_lists.ScanRefused) as exc:
            raise CommandError(str(exc), returncode=2) from None
        try:
            run = scanner.execute(run.pk, on_progress=self._bar)
        except Exception as exc:  # noqa: BLE001 - recorded on the run too; the operator gets the reason and 1
            raise CommandError(f"scan failed: {type(exc).__name__}: {exc}", returncode=1) from exc
        sys.stderr.write("\n")
        if run.state != "finished":
            raise CommandError(f"scan failed: {run.errors}", returncode=1)
        results = list(run.results.select_related("credential", "run__rule"))
        for result in results:
            what = (f"{result.sys_name or '-'}  {result.vendor or '?'} {result.device_type} {result.os} "
                    f"{result.os_version}  via {result.credential}" if result.snmp_reachable else "ping only")
            known = f"  = {result.matched_device}" if result.matched_device_id else ""
            self.stdout.write(f"{result.ip:<16} {what.strip()}{known}")
        self.stdout.write(f"{run.addresses} addresses, {run.alive} alive, {run.snmp} SNMP, "
                          f"{run.updated} already monitored ({run.duration_seconds:.1f} s)")
        if add:
            new = [r for r in results if r.snmp_reachable and r.matched_device_id is None]
            devices, _ = inventory.add_results(new)  # SNMP devices: none is skipped
            self.stdout.write(f"added {len(devices)}: {', '.join(d.name for d in devices) or '-'}")

    def _bar(self, percent: int) -> None:
        filled = BAR * percent // 100
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {percent:3d}%")
        sys.stderr.flush()

