"""snmp.ber, the codec of the client's SNMP v1/v2c path (the path on the wire: test_transport.py).

pysnmp's encoder (pyasn1) is the independent reference: what it encodes we must decode to the same values, and
our requests must be byte for byte what it encodes. Answers captured from net-snmp's snmpd pin real-world bytes.
"""
from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.type import univ
from pysnmp.proto.api import v1, v2c

from snmp import ber
from snmp.values import SNMPType, Value

# snmpd's answer to a v2c GET (request-id 0x1234) of sysObjectID.0, ifDescr.1, ifType.1, ifMtu.1, ifSpeed.1,
# ifInOctets.1, ifHCInOctets.1, sysUpTime.0, ipAdEntAddr.127.0.0.1, sysDescr's sibling .99.0 and sysName.1:
# long-form lengths (30 81 ea, a2 81 dc), a multi-octet arc (8072 = bf 08) and both kinds of missing OID.
SNMPD_GET_RESPONSE = bytes.fromhex(
    "3081ea02010104067075626c6963a281dc020212340201000201003081cf301606082b06010201010200060a2b06010401bf0803020a"
    "3010060a2b06010201020201020104026c6f300f060a2b0601020102020103010201183011060a2b0601020102020104010203010000"
    "3012060a2b0601020102020105014204009896803012060a2b060102010202010a014104009cda283013060b2b060102011f01010106"
    "014604009cda28300f06082b0601020101030043030095043015060d2b06010201041401017f00000140047f000001300c06082b0601"
    "02010163008000300c06082b060102010105018100")
SNMPD_GET_VALUES = [
    ("1.3.6.1.2.1.1.2.0", Value(SNMPType.OID, "1.3.6.1.4.1.8072.3.2.10")),
    ("1.3.6.1.2.1.2.2.1.2.1", Value(SNMPType.OCTETS, b"lo")),
    ("1.3.6.1.2.1.2.2.1.3.1", Value(SNMPType.INTEGER, 24)),
    ("1.3.6.1.2.1.2.2.1.4.1", Value(SNMPType.INTEGER, 65536)),
    ("1.3.6.1.2.1.2.2.1.5.1", Value(SNMPType.GAUGE32, 10_000_000)),
    ("1.3.6.1.2.1.2.2.1.10.1", Value(SNMPType.COUNTER32, 10_279_464)),
    ("1.3.6.1.2.1.31.1.1.1.6.1", Value(SNMPType.COUNTER64, 10_279_464)),
    ("1.3.6.1.2.1.1.3.0", Value(SNMPType.TIMETICKS, 38_148)),
    ("1.3.6.1.2.1.4.20.1.1.127.0.0.1", Value(SNMPType.IPADDRESS, "127.0.0.1")),
    ("1.3.6.1.2.1.1.99.0", Value(SNMPType.NO_SUCH_OBJECT, None)),
    ("1.3.6.1.2.1.1.5.1", Value(SNMPType.NO_SUCH_INSTANCE, None)),
]
# snmpd's answers to a GETBULK past the end of its MIB, and to a v1 GET of a missing OID (noSuchName, index 1).
SNMPD_END_OF_MIB = bytes.fromhex("302402010104067075626c6963a217020178020100020100300c300a06062b06010603638200")
SNMPD_V1_NO_SUCH_NAME = bytes.fromhex(
    "302602010004067075626c6963a219020179020102020101300e300c06082b060102010163000500")


def decode(data: bytes) -> tuple[ber.Header, int, int, list[tuple[str, Value]]]:
    """Header, error-status, error-index and (dotted OID, value) pairs of a Response."""
    header = ber.decode_header(data)
    status, index, varbinds = ber.decode_body(data, header)
    return header, status, index, [(ber.oid_text(name), value) for name, value in varbinds]


def pysnmp_response(varbinds: list, *, request_id: int = 1, community: bytes = b"public", api=v2c,
                    error_status: int = 0, error_index: int = 0) -> bytes:
    """A Response message as pysnmp encodes it (api: pysnmp.proto.api.v1 or v2c)."""
    message = api.Message()
    api.apiMessage.set_defaults(message)
    api.apiMessage.set_community(message, community)
    pdu = api.GetResponsePDU()
    api.apiPDU.set_defaults(pdu)
    api.apiPDU.set_request_id(pdu, request_id)
    api.apiPDU.set_error_status(pdu, error_status)
    api.apiPDU.set_error_index(pdu, error_index)
    api.apiPDU.set_varbinds(pdu, varbinds)
    api.apiMessage.set_pdu(message, pdu)
    return ber_encoder.encode(message)


def pysnmp_request(version: int, community: bytes, pdu_type: int, request_id: int, oids: list[tuple[int, ...]],
                   non_repeaters: int, max_repetitions: int) -> bytes:
    api = v1 if version == ber.V1 else v2c
    pdu = {ber.GET: api.GetRequestPDU, ber.GET_NEXT: api.GetNextRequestPDU,
           ber.GET_BULK: v2c.GetBulkRequestPDU}[pdu_type]()
    pdu_api = v2c.apiBulkPDU if pdu_type == ber.GET_BULK else api.apiPDU
    pdu_api.set_defaults(pdu)
    pdu_api.set_request_id(pdu, request_id)
    if pdu_type == ber.GET_BULK:
        pdu_api.set_non_repeaters(pdu, non_repeaters)
        pdu_api.set_max_repetitions(pdu, max_repetitions)
    pdu_api.set_varbinds(pdu, [(oid, api.Null("")) for oid in oids])
    message = api.Message()
    api.apiMessage.set_defaults(message)
    api.apiMessage.set_community(message, community)
    api.apiMessage.set_pdu(message, pdu)
    return ber_encoder.encode(message)


def dotted(arcs: tuple[int, ...]) -> str:
    return ".".join(map(str, arcs))


def tlv(tag: int, content: bytes) -> bytes:
    """Tag, short-form length, content: for hand-made messages (every piece here is under 128 bytes)."""
    assert len(content) < 128
    return bytes((tag, len(content))) + content


def varbind(value: bytes, name: bytes = b"\x2b\x06") -> bytes:
    """A varbind of OID 1.3.6 (or `name`) and `value`, an encoded value."""
    return tlv(0x30, tlv(0x06, name) + value)


def response(*varbinds: bytes, pdu_tag: int = ber.RESPONSE) -> bytes:
    """A hand-made v2c message, community "public", request-id 1, holding `varbinds`."""
    pdu = b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + tlv(0x30, b"".join(varbinds))
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, b"public") + tlv(pdu_tag, pdu))


# --- strategies -----------------------------------------------------------------------------------------------

ARC = st.integers(0, 2**32 - 1)
OIDS = st.builds(
    lambda first_two, rest: (*first_two, *rest),
    st.one_of(st.tuples(st.integers(0, 1), st.integers(0, 39)), st.tuples(st.just(2), ARC)),
    st.lists(ARC, max_size=20),
)
UNSIGNED32 = st.integers(0, 2**32 - 1)
VALUES = st.one_of(  # (pysnmp value, the Value it must decode to)
    st.integers(-2**31, 2**31 - 1).map(lambda n: (v2c.Integer32(n), Value(SNMPType.INTEGER, n))),
    UNSIGNED32.map(lambda n: (v2c.Counter32(n), Value(SNMPType.COUNTER32, n))),
    UNSIGNED32.map(lambda n: (v2c.Gauge32(n), Value(SNMPType.GAUGE32, n))),
    UNSIGNED32.map(lambda n: (v2c.Unsigned32(n), Value(SNMPType.GAUGE32, n))),
    UNSIGNED32.map(lambda n: (v2c.TimeTicks(n), Value(SNMPType.TIMETICKS, n))),
    st.integers(0, 2**64 - 1).map(lambda n: (v2c.Counter64(n), Value(SNMPType.COUNTER64, n))),
    st.binary(max_size=300).map(lambda octets: (v2c.OctetString(octets), Value(SNMPType.OCTETS, octets))),
    OIDS.map(lambda arcs: (v2c.ObjectIdentifier(arcs), Value(SNMPType.OID, dotted(arcs)))),
    st.binary(min_size=4, max_size=4).map(
        lambda octets: (v2c.IpAddress(octets), Value(SNMPType.IPADDRESS, socket.inet_ntoa(octets)))),
    st.binary(max_size=40).map(lambda octets: (v2c.Opaque(octets), Value(SNMPType.OPAQUE, octets))),
    st.sampled_from([
        (v2c.Null(""), Value(SNMPType.NULL, None)),
        (v2c.NoSuchObject(""), Value(SNMPType.NO_SUCH_OBJECT, None)),
        (v2c.NoSuchInstance(""), Value(SNMPType.NO_SUCH_INSTANCE, None)),
        (v2c.EndOfMibView(""), Value(SNMPType.END_OF_MIB_VIEW, None)),
    ]),
)


# --- encoding -------------------------------------------------------------------------------------------------

def test_it_encodes_a_get_request_byte_for_byte():
    message = ber.encode_request(ber.V2C, b"public", ber.GET, 1, [ber.encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0))])
    assert message.hex() == "302602010104067075626c6963a019020101020100020100300e300c06082b060102010103000500"


@given(version=st.sampled_from([ber.V1, ber.V2C]), pdu_type=st.sampled_from([ber.GET, ber.GET_NEXT, ber.GET_BULK]),
       community=st.binary(max_size=200), request_id=st.integers(0, 2**31 - 1),
       oids=st.lists(OIDS, min_size=1, max_size=12), non_repeaters=st.integers(0, 2**31 - 1),
       max_repetitions=st.integers(0, 2**31 - 1))
def test_it_encodes_requests_as_pysnmp_does(version, pdu_type, community, request_id, oids, non_repeaters,
                                            max_repetitions):
    if pdu_type != ber.GET_BULK:
        non_repeaters = max_repetitions = 0
    elif version == ber.V1:
        version = ber.V2C  # there is no GetBulkRequest in SNMPv1
    ours = ber.encode_request(version, community, pdu_type, request_id, [ber.encode_oid(oid) for oid in oids],
                              non_repeaters=non_repeaters, max_repetitions=max_repetitions)
    assert ours == pysnmp_request(version, community, pdu_type, request_id, oids, non_repeaters, max_repetitions)


@given(OIDS)
def test_it_encodes_oids_as_pyasn1_does_and_decodes_them_back(arcs):
    name = ber.encode_oid(arcs)
    assert ber_encoder.encode(univ.ObjectIdentifier(arcs)) == bytes((0x06, len(name))) + name
    assert ber.decode_oid(name) == arcs
    assert ber.oid_text(name) == dotted(arcs)


@pytest.mark.parametrize("arcs, name", [
    ((1, 3, 6, 1), "2b0601"),
    ((0, 0), "00"),
    ((2, 999, 3), "883703"),  # the first subidentifier 80 + 999 takes two octets
    ((1, 3, 127, 128, 16383, 16384), "2b7f8100ff7f818000"),
    ((1, 3, 2**32 - 1), "2b8fffffff7f"),
])
def test_it_encodes_oids_with_large_arcs(arcs, name):
    assert ber.encode_oid(arcs).hex() == name
    assert ber.decode_oid(bytes.fromhex(name)) == arcs


@pytest.mark.parametrize("arcs", [(1,), (3, 1), (1, 40), (0, 40, 1), (1, 3, -1), ()])
def test_it_refuses_to_encode_impossible_oids(arcs):
    with pytest.raises(ber.BERError, match="cannot be encoded"):
        ber.encode_oid(arcs)


def test_it_refuses_bulk_fields_outside_a_getbulk():
    with pytest.raises(ValueError, match="GetBulkRequest"):
        ber.encode_request(ber.V2C, b"public", ber.GET, 1, [b"\x2b"], max_repetitions=10)
    with pytest.raises(ValueError, match="request PDU"):
        ber.encode_request(ber.V2C, b"public", ber.RESPONSE, 1, [b"\x2b"])


# --- decoding -------------------------------------------------------------------------------------------------

def test_it_decodes_a_get_response_captured_from_snmpd():
    header, status, index, varbinds = decode(SNMPD_GET_RESPONSE)
    assert (header.version, header.community, header.request_id) == (ber.V2C, b"public", 0x1234)
    assert (status, index) == (0, 0)
    assert varbinds == SNMPD_GET_VALUES


def test_it_decodes_end_of_mib_view_and_v1_error_status_captured_from_snmpd():
    assert decode(SNMPD_END_OF_MIB)[3] == [("1.3.6.1.6.3.99", Value(SNMPType.END_OF_MIB_VIEW, None))]
    header, status, index, varbinds = decode(SNMPD_V1_NO_SUCH_NAME)
    assert (header.version, header.request_id, status, index) == (ber.V1, 0x79, 2, 1)
    assert varbinds == [("1.3.6.1.2.1.1.99.0", Value(SNMPType.NULL, None))]


@settings(max_examples=300)
@given(varbinds=st.lists(st.tuples(OIDS, VALUES), max_size=30), request_id=st.integers(-2**31, 2**31 - 1),
       community=st.binary(max_size=300), error_status=st.integers(0, 18), error_index=st.integers(0, 30))
def test_it_decodes_what_pysnmp_encodes(varbinds, request_id, community, error_status, error_index):
    message = pysnmp_response([(oid, asn1) for oid, (asn1, _) in varbinds], request_id=request_id,
                              community=community, error_status=error_status, error_index=error_index)
    header, status, index, decoded = decode(message)
    assert (header.version, header.community, header.request_id) == (ber.V2C, community, request_id)
    assert (status, index) == (error_status, error_index)
    assert decoded == [(dotted(oid), value) for oid, (_, value) in varbinds]


@given(st.lists(st.tuples(OIDS, st.integers(-2**31, 2**31 - 1)), max_size=10))
def test_it_decodes_v1_responses(varbinds):
    message = pysnmp_response([(oid, v1.Integer(number)) for oid, number in varbinds], api=v1)
    header, _, _, decoded = decode(message)
    assert header.version == ber.V1
    assert decoded == [(dotted(oid), Value(SNMPType.INTEGER, number)) for oid, number in varbinds]


@pytest.mark.parametrize("asn1, expected", [
    (v2c.Counter64(2**64 - 1), Value(SNMPType.COUNTER64, 2**64 - 1)),  # nine octets: 00 ff … ff
    (v2c.Counter32(2**32 - 1), Value(SNMPType.COUNTER32, 2**32 - 1)),
    (v2c.Integer32(-1), Value(SNMPType.INTEGER, -1)),
    (v2c.Integer32(-2**31), Value(SNMPType.INTEGER, -2**31)),
    (v2c.Integer32(-129), Value(SNMPType.INTEGER, -129)),
    (v2c.OctetString(b"x" * 65_535), Value(SNMPType.OCTETS, b"x" * 65_535)),  # long-form length 82 ff ff
    (v2c.OctetString(b""), Value(SNMPType.OCTETS, b"")),
])
def test_it_decodes_edge_values(asn1, expected):
    assert decode(pysnmp_response([((1, 3, 6, 1), asn1)]))[3] == [("1.3.6.1", expected)]


def test_it_accepts_counters_sent_without_their_sign_octet():
    # Some agents send 2^32-1 as ff ff ff ff (four octets, -1 to a strict decoder): we read counters unsigned.
    assert decode(response(varbind(b"\x41\x04\xff\xff\xff\xff")))[3] == [
        ("1.3.6", Value(SNMPType.COUNTER32, 2**32 - 1))]


def test_it_accepts_non_minimal_long_form_lengths():
    # BER (unlike DER) allows a long-form length where the short form would do: 04 81 02 "lo".
    assert decode(response(varbind(b"\x04\x81\x02lo")))[3] == [("1.3.6", Value(SNMPType.OCTETS, b"lo"))]


UPTIME = b"\x43\x01\x05"


@pytest.mark.parametrize("message, error", [
    (response(varbind(b"\x47\x01\x05")), r"unknown value type: tag 0x47 at byte 32"),
    (response(tlv(0x30, tlv(0x06, b"\x2b") + b"\x43\x02\x05")), r"varbind at byte 26 is malformed"),
    (response(tlv(0x30, b"\x06\x02\x2b" + UPTIME)), r"varbind at byte 26 is malformed"),  # name eats the tag
    (response(varbind(UPTIME, name=b"")), r"varbind at byte 26 is malformed"),
    (response(varbind(b"\x40\x02ok")), r"IpAddress at byte 32 has 2 octets, not 4"),
    (response(varbind(b"\x05\x02ok")), r"tag 0x05 at byte 32 should be empty, has 2 octets"),
    (response(varbind(b"\x06\x02\x2b\x86")), r"ends inside a subidentifier"),
    (response(varbind(b"\x06\x02\x80\x01")), r"leading 0x80"),
    (response(varbind(b"\x06\x00")), r"empty OID"),
    (response(varbind(b"\x02\x00")), r"INTEGER at byte 32 is empty"),
    (response(varbind(b"\x41\x00")), r"counter32 at byte 32 is out of range or empty"),
    (response(b"\x31\x03\x06\x01\x2b"), r"expected a varbind \(tag 0x30\) at byte 26"),
    (response(tlv(0x30, tlv(0x04, b"x") + UPTIME)), r"expected an OID \(tag 0x06\) at byte 28"),
    (response(varbind(UPTIME), pdu_tag=0xA0), r"not a Response PDU: tag 0xa0 at byte 13"),
    (response(varbind(UPTIME), pdu_tag=0xA8), r"not a Response PDU: tag 0xa8"),
    (b"\x30\x80" + SNMPD_END_OF_MIB[2:], r"unsupported length octet 0x80 at byte 1"),
    (b"\x30\x85\x00\x00\x00\x00\x24" + SNMPD_END_OF_MIB[2:], r"unsupported length octet 0x85"),
    (b"\x31" + SNMPD_END_OF_MIB[1:], r"expected message \(tag 0x30\) at byte 0, found tag 0x31"),
    (SNMPD_END_OF_MIB.replace(b"\x02\x01\x01\x04", b"\x02\x00\x01\x04"), r"version at byte 2 is empty"),
    (SNMPD_END_OF_MIB.replace(b"\x04\x06public", b"\x04\x7fpublic"), r"community at byte 5 is 127 bytes long"),
    (SNMPD_END_OF_MIB[:-1], r"message at byte 0 is 36 bytes long: more than what holds it"),
    (b"", r"message truncated at 0 bytes"),
])
def test_it_names_what_is_malformed(message, error):
    with pytest.raises(ber.BERError, match=error):
        decode(message)


@pytest.mark.parametrize("number, tag", [(2**32, 0x41), (2**32, 0x42), (2**32, 0x43), (2**64, 0x46)])
def test_it_rejects_counters_out_of_range(number, tag):
    octets = number.to_bytes((number.bit_length() + 7) // 8)
    with pytest.raises(ber.BERError, match="out of range"):
        decode(response(varbind(bytes((tag, len(octets))) + octets)))


@pytest.mark.parametrize("message", [SNMPD_GET_RESPONSE, SNMPD_END_OF_MIB, SNMPD_V1_NO_SUCH_NAME])
def test_it_raises_a_ber_error_for_every_truncation(message):
    for size in range(len(message)):
        with pytest.raises(ber.BERError):
            decode(message[:size])


@given(st.binary(max_size=300))
def test_it_raises_nothing_but_ber_errors_on_garbage(data):
    try:
        decode(data)
    except ber.BERError:
        pass


@given(st.integers(0, len(SNMPD_GET_RESPONSE) - 1), st.integers(0, 255))
def test_it_raises_nothing_but_ber_errors_on_a_damaged_answer(position, octet):
    damaged = bytearray(SNMPD_GET_RESPONSE)
    damaged[position] = octet
    try:
        decode(bytes(damaged))
    except ber.BERError:
        pass
