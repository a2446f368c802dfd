"""The client's errors and their wording: what failed, where, and what to check."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pysnmp.proto import errind

from snmp import ber

if TYPE_CHECKING:
    from snmp.client.target import Target


class SNMPError(Exception):
    """An SNMP request failed; the message names the target and what to check."""


class SNMPTimeout(SNMPError):
    """No (valid) answer within timeout × (retries + 1)."""


class SNMPAuthError(SNMPError):
    """The agent refused our SNMPv3 credentials (usmStats report)."""


class SNMPProtocolError(SNMPError):
    """The agent answered with an error status or broke the protocol (e.g. a walk that does not advance)."""


ERROR_STATUS = {  # RFC 3416 error-status names
    1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess", 7: "wrongType",
    8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue", 11: "noCreation", 12: "inconsistentValue",
    13: "resourceUnavailable", 14: "commitFailed", 15: "undoFailed", 16: "authorizationError",
    17: "notWritable", 18: "inconsistentName",
}
TOO_BIG, NO_SUCH_NAME = 1, 2


def name_str(name: bytes) -> str:
    """A name (an encoded OID, see snmp/ber.py) as dotted text for a message, even a malformed one."""
    try:
        return ber.oid_text(name)
    except ber.BERError:
        return f"a malformed OID (0x{name.hex()})"


def timeout_message(target: Target) -> str:
    """Why a target may not answer: for v1/v2c a wrong community looks exactly like a dead agent."""
    tries = f"{target.retries + 1} tries of {target.timeout:g} s"
    if target.version == "v3":
        return (f"{target}: no answer after {tries}: check that the device is reachable, SNMP is enabled on UDP "
                f"{target.port} and this manager is allowed (ACL)")
    return (f"{target}: no answer after {tries}: check the community (a wrong community looks exactly like a "
            f"timeout for v1/v2c), that the device is reachable, SNMP is enabled on UDP {target.port} and this "
            f"manager is allowed (ACL)")


_AUTH_MESSAGES = {
    errind.UnknownUserName: "the agent has no user {user} (usmStatsUnknownUserNames): check the security name",
    errind.WrongDigest: "wrong authentication key or protocol for user {user} (usmStatsWrongDigests): "
                        "check the auth key and the auth protocol ({auth})",
    errind.DecryptionError: "the agent could not decrypt our request for user {user} (usmStatsDecryptionErrors): "
                            "check the privacy key and the privacy protocol ({priv})",
    errind.UnsupportedSecurityLevel: "user {user} does not support {level} on this agent "
                                     "(usmStatsUnsupportedSecLevels): check which auth/privacy protocols it has",
    errind.AuthenticationFailure: "the agent's answer failed authentication for user {user}: "
                                  "check the auth key and the auth protocol ({auth})",
}


def usm_error(target: Target, indication: errind.ErrorIndication) -> SNMPError:
    """The error for what pysnmp reports of an SNMPv3 request (a timeout or a usmStats report)."""
    if isinstance(indication, errind.RequestTimedOut):
        return SNMPTimeout(timeout_message(target))
    for kind, template in _AUTH_MESSAGES.items():
        if isinstance(indication, kind):
            detail = template.format(user=repr(target.security_name), auth=target.auth_protocol or "none",
                                     priv=target.priv_protocol or "none", level=target.security_level)
            return SNMPAuthError(f"{target}: {detail}")
    if isinstance(indication, errind.UnknownEngineID):
        return SNMPProtocolError(f"{target}: the agent keeps reporting an unknown engine ID (usmStatsUnknownEngineIDs):"
                                 f" its engine ID changed or is shared with another device; it is re-learnt within "
                                 f"5 minutes, check that engine IDs are unique")
    if isinstance(indication, errind.NotInTimeWindow):
        return SNMPAuthError(f"{target}: our requests stay outside the agent's time window (usmStatsNotInTimeWindows)"
                             f": check that the agent's engine boots/time is sane and its engine ID is unique")
    return SNMPProtocolError(f"{target}: {indication}")


_STATUS_HINTS = {
    "authorizationError": ": check the agent's access rules (VACM view, group, security level) for this user",
    "noAccess": ": check the agent's access rules (view) for this community or user",
    "tooBig": ": the answer to a single OID does not fit the agent's maximum message size",
}


def status_error(target: Target, response: ber.Body, names: Sequence[bytes]) -> SNMPProtocolError:
    """The error for an answer with an error-status, naming the OID it blames."""
    status = ERROR_STATUS.get(response.error_status, str(response.error_status))
    where = ""
    if 0 < response.error_index <= len(names):
        where = f" for {name_str(names[response.error_index - 1])}"
    return SNMPProtocolError(f"{target}: the agent answered {status}{where}{_STATUS_HINTS.get(status, '')}")
