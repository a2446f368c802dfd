"""The one Zabbix API client of WARD FLUX: zabbix-utils underneath, the same records from Zabbix 6.0 to 7.4.

Plain Python (no Django): `ZabbixClient(url, token=...)` or `(url, username=..., password=...)`, then `connect()`.
What differs between versions is in `versions.CHANGES`; every failure is a `ZabbixError` with a `kind`.
"""
from . import versions
from .errors import ErrorKind, ZabbixError
from .records import (Ack, Group, Host, Interface, Macro, Problem, SnmpDetails, TemplateMacros,
                      resolve_macro)
from .session import ZabbixClient

__all__ = ["Ack", "ErrorKind", "Group", "Host", "Interface", "Macro", "Problem", "SnmpDetails", "TemplateMacros",
           "ZabbixClient", "ZabbixError", "resolve_macro", "versions"]
