"""The one SNMP client: asyncio GET and walk for SNMP v1, v2c and v3 (USM), with typed values.

Callers see only what this package exports: `Target`, `Value`, `SNMPError` and its kinds, the functions `get`
and `walk` (and their `*_sync` twins), `gather_limited` to run many calls at once, and `run()` for sync code with
a batch of calls; what is underneath stays inside the package (and snmp/ber.py), so it can change without them
noticing.

Two paths, one interface. SNMP v1 and v2c, the polling hot path, go through our own BER codec (snmp/ber.py) and
one UDP socket per event loop and address family, shared by every target (`transport.py`). SNMPv3 goes through
one pysnmp engine for the whole process (`usm.py`): its localized keys and discovered engine IDs survive between
event loops. Sockets belong to a loop, and `close()` releases them (the sync wrappers do so themselves).
`target.py` says where and how to ask, `errors.py` what went wrong, `operations.py` holds GET, walk and fan-out.

Missing OIDs are not errors: `get` maps them to a `Value` whose `type` is `nosuchobject` or `nosuchinstance`
(`Value.missing` is true); SNMPv1 agents cannot tell the two apart and are reported as `nosuchobject`.
"""
from snmp.client.errors import SNMPAuthError, SNMPError, SNMPProtocolError, SNMPTimeout
from snmp.client.operations import (
    DEFAULT_CONCURRENCY,
    MAX_VARBINDS_PER_PDU,
    close,
    gather_limited,
    get,
    get_sync,
    run,
    walk,
    walk_sync,
)
from snmp.client.target import Target
from snmp.values import SNMPType, Value

__all__ = [
    "DEFAULT_CONCURRENCY", "MAX_VARBINDS_PER_PDU", "SNMPAuthError", "SNMPError", "SNMPProtocolError", "SNMPTimeout",
    "SNMPType", "Target", "Value", "close", "gather_limited", "get", "get_sync", "run", "walk", "walk_sync",
]
