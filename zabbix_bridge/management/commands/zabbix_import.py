from django.core.management.base import BaseCommand, CommandError, CommandParser

from zabbix_bridge.client import ZabbixError
from zabbix_bridge.migration import BadRequest, find_server, report, run_import


class Command(BaseCommand):
    help = ("Import a Zabbix server's hosts as our own devices, monitored by our ICMP and SNMP engines (SNMP "
            "credentials from the hosts' interfaces and macros, templates mapped to ours). Run it again: it changes "
            "nothing that is already imported. See docs/zabbix.md, 'Moving off Zabbix'.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--server", metavar="NAME", help="the Zabbix server (optional when there is only one)")
        parser.add_argument("--group", metavar="NAME", action="append", dest="groups",
                            help="a host group to import (repeat for several; default: the server's host groups, "
                                 "else all)")
        parser.add_argument("--dry-run", action="store_true",
                            help="say what would be created, changed and skipped, and why; change nothing")
        parser.add_argument("--activate-standalone", action="store_true",
                            help="after the import, set the active monitoring profile to standalone")

    def handle(self, *args, server: str | None, groups: list[str] | None, dry_run: bool,
               activate_standalone: bool, **options) -> None:
        try:
            plan = run_import(find_server(server), groups, dry_run=dry_run,
                              activate_standalone_mode=activate_standalone)
        except BadRequest as exc:
            raise CommandError(exc.message, returncode=2) from None
        except ZabbixError as exc:
            raise CommandError(f"Zabbix cannot be read, nothing was imported: {exc}", returncode=1) from None
        for line in report.lines(plan):
            self.stdout.write(line)
