"""BER encoding and decoding of SNMP v1/v2c messages (RFC 1157, RFC 3416), for snmp.client's community path.

Only what a manager needs: GetRequest, GetNextRequest and GetBulkRequest out, every value NULL; Response in,
its values as snmp.values.Value. SNMPv3 stays with pysnmp.

OIDs stay encoded here: a *name* is the content octets of an OID (X.690 §8.19: no tag, no length). The encoding
is canonical, so two names are equal, or one lies under the other, exactly when their bytes are equal or one
starts with the other's; the client compares names that way and decodes only what it prints or orders.

Decoding a Response takes two steps: `decode_header` says whom it answers (version, community, request-id), so
a datagram can be matched to its request cheaply, and `decode_body` reads the rest for whoever asked. Malformed
input raises BERError saying what is wrong and where; no other exception escapes the decoders.
"""
from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import NamedTuple

from snmp.values import SNMPType, Value

V1, V2C = 0, 1  # the message's version field (RFC 1157, RFC 1901)
GET, GET_NEXT, RESPONSE, GET_BULK = 0xA0, 0xA1, 0xA2, 0xA5  # PDU tags

_SEQUENCE, _INTEGER, _OCTETS, _NULL, _OID = 0x30, 0x02, 0x04, 0x05, 0x06
_IPADDRESS, _OPAQUE = 0x40, 0x44
_UNSIGNED = {  # tag -> (type, largest value)
    0x41: (SNMPType.COUNTER32, 2**32 - 1),
    0x42: (SNMPType.GAUGE32, 2**32 - 1),
    0x43: (SNMPType.TIMETICKS, 2**32 - 1),
    0x46: (SNMPType.COUNTER64, 2**64 - 1),
}
_EMPTY = {  # tags of values without content: one shared Value each
    _NULL: Value(SNMPType.NULL, None),
    0x80: Value(SNMPType.NO_SUCH_OBJECT, None),
    0x81: Value(SNMPType.NO_SUCH_INSTANCE, None),
    0x82: Value(SNMPType.END_OF_MIB_VIEW, None),
}


class BERError(ValueError):
    """Bytes that are not a well-formed SNMP v1/v2c Response (or an OID that cannot be encoded)."""


class Header(NamedTuple):
    """Whom a Response answers, and where the rest of its PDU lies in the message."""

    version: int
    community: bytes
    request_id: int
    body: int  # offset of error-status
    end: int  # offset just past the PDU


Varbind = tuple[bytes, Value]  # (name, value)


class Body(NamedTuple):
    """What a Response says: error-status, error-index and varbinds."""

    error_status: int
    error_index: int
    var_binds: list[Varbind]


# --- encoding -------------------------------------------------------------------------------------------------

def encode_oid(arcs: Sequence[int]) -> bytes:
    """The name of an OID: the first two arcs as one subidentifier 40·X+Y, then each arc in base 128."""
    if len(arcs) < 2 or not 0 <= arcs[0] <= 2 or arcs[1] < 0 or (arcs[0] < 2 and arcs[1] > 39):
        raise BERError(f"OID {'.'.join(map(str, arcs))} cannot be encoded: it needs at least two arcs, the first "
                       f"0, 1 or 2 and the second at most 39 under 0 and 1")
    out = bytearray()
    for arc in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        if arc < 0:
            raise BERError(f"OID {'.'.join(map(str, arcs))} cannot be encoded: arc {arc} is negative")
        group = [arc & 0x7F]
        arc >>= 7
        while arc:
            group.append(0x80 | arc & 0x7F)
            arc >>= 7
        out += bytes(reversed(group))
    return bytes(out)


def encode_request(version: int, community: bytes, pdu_type: int, request_id: int, names: Sequence[bytes], *,
                   non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
    """A GetRequest, GetNextRequest or GetBulkRequest message for `names`, each with a NULL value."""
    if pdu_type not in (GET, GET_NEXT, GET_BULK):
        raise ValueError(f"not a request PDU type: 0x{pdu_type:02x}")
    if pdu_type != GET_BULK and (non_repeaters or max_repetitions):
        raise ValueError("non-repeaters and max-repetitions belong to GetBulkRequest only")
    varbinds = b"".join(_tlv(_SEQUENCE, _tlv(_OID, name) + b"\x05\x00") for name in names)
    pdu = (_integer(request_id) + _integer(non_repeaters) + _integer(max_repetitions)  # error-status/index: 0
           + _tlv(_SEQUENCE, varbinds))
    return _tlv(_SEQUENCE, _integer(version) + _tlv(_OCTETS, community) + _tlv(pdu_type, pdu))


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8)
    return bytes((tag, 0x80 | len(length))) + length + content


def _integer(number: int) -> bytes:
    """An INTEGER in the fewest two's-complement octets."""
    return _tlv(_INTEGER, number.to_bytes((number + (number < 0)).bit_length() // 8 + 1, signed=True))


# --- decoding -------------------------------------------------------------------------------------------------

def decode_header(data: bytes) -> Header:
    """Version, community and request-id of a Response message, and where its error-status starts."""
    try:
        start, end = _open(data, 0, _SEQUENCE, len(data), "message")
        version, offset = _read_integer(data, start, end, "version")
        offset, community_end = _open(data, offset, _OCTETS, end, "community")
        community = data[offset:community_end]
        if data[community_end] != RESPONSE:
            raise BERError(f"not a Response PDU: tag 0x{data[community_end]:02x} at byte {community_end}")
        offset, pdu_end = _open(data, community_end, RESPONSE, end, "Response PDU")
        request_id, offset = _read_integer(data, offset, pdu_end, "request-id")
    except IndexError:
        raise BERError(f"message truncated at {len(data)} bytes") from None
    return Header(version, community, request_id, offset, pdu_end)


def decode_body(data: bytes, header: Header) -> Body:
    """Error-status, error-index and varbinds of the Response whose header is `header`."""
    try:
        error_status, offset = _read_integer(data, header.body, header.end, "error-status")
        error_index, offset = _read_integer(data, offset, header.end, "error-index")
        start, end = _open(data, offset, _SEQUENCE, header.end, "varbind list")
        return Body(error_status, error_index, _varbinds(data, start, end))
    except IndexError:
        raise BERError(f"message truncated at {len(data)} bytes") from None


def _varbinds(data: bytes, offset: int, end: int) -> list[Varbind]:
    """The (name, value) pairs from data[offset:end]; the hot loop, so the values' headers are read inline."""
    varbinds = []
    while offset < end:
        start = offset
        offset, varbind_end = _open(data, offset, _SEQUENCE, end, "a varbind")
        offset, name_end = _open(data, offset, _OID, varbind_end, "an OID")
        name = data[offset:name_end]
        offset = name_end
        tag = data[offset]
        size = data[offset + 1]
        offset += 2
        if size & 0x80:
            size, offset = _long_length(data, offset - 1)
        value_end = offset + size
        if value_end != varbind_end or varbind_end > end or not name:
            raise BERError(f"varbind at byte {start} is malformed: an empty OID, or a name and value that do not "
                           f"fill its {varbind_end - start} bytes")
        if tag in _UNSIGNED:
            kind, largest = _UNSIGNED[tag]
            number = int.from_bytes(data[offset:value_end])
            if number > largest or not size:
                raise BERError(f"{kind} at byte {offset - 2} is out of range or empty")
            varbinds.append((name, Value(kind, number)))
        elif tag == _OCTETS:
            varbinds.append((name, Value(SNMPType.OCTETS, data[offset:value_end])))
        else:
            varbinds.append((name, _other_value(tag, data[offset:value_end], offset - 2)))
        offset = value_end
    return varbinds


def _other_value(tag: int, content: bytes, where: int) -> Value:
    """A value of any type but the unsigned numbers and octets (those are decoded inline)."""
    if tag == _INTEGER:
        if not content:
            raise BERError(f"INTEGER at byte {where} is empty")
        return Value(SNMPType.INTEGER, int.from_bytes(content, signed=True))
    if tag == _OID:
        return Value(SNMPType.OID, oid_text(content))
    if tag == _IPADDRESS:
        if len(content) != 4:
            raise BERError(f"IpAddress at byte {where} has {len(content)} octets, not 4")
        return Value(SNMPType.IPADDRESS, socket.inet_ntoa(content))
    if tag == _OPAQUE:
        return Value(SNMPType.OPAQUE, content)
    if tag in _EMPTY:
        if content:
            raise BERError(f"value with tag 0x{tag:02x} at byte {where} should be empty, has {len(content)} octets")
        return _EMPTY[tag]
    raise BERError(f"unknown value type: tag 0x{tag:02x} at byte {where}")


def _open(data: bytes, offset: int, tag: int, limit: int, what: str) -> tuple[int, int]:
    """Start and end of the content of the `what` at data[offset], which must have `tag` and end by `limit`."""
    if data[offset] != tag:
        raise BERError(f"expected {what} (tag 0x{tag:02x}) at byte {offset}, found tag 0x{data[offset]:02x}")
    size = data[offset + 1]
    start = offset + 2
    if size & 0x80:
        size, start = _long_length(data, offset + 1)
    if start + size > limit:
        raise BERError(f"{what} at byte {offset} is {size} bytes long: more than what holds it")
    return start, start + size


def _long_length(data: bytes, offset: int) -> tuple[int, int]:
    """The long-form length whose first octet is data[offset], and where the content starts."""
    count = data[offset] & 0x7F
    if not 0 < count <= 4:
        raise BERError(f"unsupported length octet 0x{data[offset]:02x} at byte {offset} (indefinite or > 4 GiB)")
    start = offset + 1 + count
    if start > len(data):
        raise IndexError(offset)
    return int.from_bytes(data[offset + 1:start]), start


def _read_integer(data: bytes, offset: int, limit: int, what: str) -> tuple[int, int]:
    start, end = _open(data, offset, _INTEGER, limit, what)
    if start == end:
        raise BERError(f"{what} at byte {offset} is empty")
    return int.from_bytes(data[start:end], signed=True), end


# --- names ----------------------------------------------------------------------------------------------------

def decode_oid(name: bytes) -> tuple[int, ...]:
    """The arcs of a name (the first subidentifier holds two arcs: 40·X+Y, X at most 2)."""
    if not name:
        raise BERError("empty OID")
    first, *rest = decode_subidentifiers(name)
    if first < 80:
        return (first // 40, first % 40, *rest)
    return (2, first - 80, *rest)


def decode_subidentifiers(octets: bytes) -> tuple[int, ...]:
    """The base-128 numbers in `octets`, e.g. the arcs of a name past a known prefix (none for no octets)."""
    if octets.isascii():  # every number below 128: one octet each, the common case
        return tuple(octets)
    numbers = []
    number = 0
    for octet in octets:
        if octet == 0x80 and not number:
            raise BERError(f"OID {octets.hex()} has a subidentifier with a leading 0x80 octet (not minimal)")
        number = number << 7 | octet & 0x7F
        if octet < 0x80:
            numbers.append(number)
            number = 0
    if octets[-1] & 0x80:
        raise BERError(f"OID {octets.hex()} ends inside a subidentifier")
    return tuple(numbers)


def oid_text(name: bytes) -> str:
    """A name as a dotted OID string."""
    return ".".join(map(str, decode_oid(name)))
