"""The OID library: names resolve, every OID is well formed and found on real devices."""
from __future__ import annotations

import bz2
import functools
import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snmp.oids import (
    BY_NAME,
    HC_FALLBACK,
    LIBRARY,
    MAX_ARC_VALUE,
    Kind,
    MibObject,
    Syntax,
    is_valid_oid,
    lookup,
    parse_oid,
    resolve,
)

# Which snmpsim-data recordings (by file name) may vouch for a vendor MIB's objects.
VENDOR_RECORDINGS = {
    "OLD-CISCO-CPU-MIB": "cisco",
    "OLD-CISCO-MEMORY-MIB": "cisco",
    "CISCO-PROCESS-MIB": "cisco",
    "CISCO-MEMORY-POOL-MIB": "cisco",
    "JUNIPER-MIB": "juniper",
    "FORTINET-FORTIGATE-MIB": "fortinet",
    "STATISTICS-MIB": "hpe-procurve",
    "HUAWEI-ENTITY-EXTENT-MIB": "huawei",
}
STANDARD_MIBS = {"SNMPv2-MIB", "IF-MIB", "HOST-RESOURCES-MIB", "ENTITY-MIB", "UCD-SNMP-MIB"}
# snmpsim-data 1.0.1 has no MikroTik recording; these OIDs were checked against MIKROTIK-MIB itself.
WITHOUT_RECORDING = {"MIKROTIK-MIB"}

# snmprec type tags (oid|tag|value); a suffix such as "x" (hex) or ":module" is encoding only.
TAG_SYNTAX = {
    "2": Syntax.INTEGER,
    "4": Syntax.STRING,
    "6": Syntax.OID,
    "65": Syntax.COUNTER32,
    "66": Syntax.GAUGE,
    "67": Syntax.TIMETICKS,
    "70": Syntax.COUNTER64,
}


def test_it_resolves_names_to_what_to_poll():
    assert resolve("sysUpTime") == "1.3.6.1.2.1.1.3.0"
    assert resolve("ifHCInOctets") == "1.3.6.1.2.1.31.1.1.1.6"
    assert resolve("ifOperStatus.3") == "1.3.6.1.2.1.2.2.1.8.3"
    assert resolve("hwEntityCpuUsage.67108867") == "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5.67108867"


@pytest.mark.parametrize(
    ("name", "oid"),
    [
        ("sysDescr", "1.3.6.1.2.1.1.1.0"),
        ("sysUpTime", "1.3.6.1.2.1.1.3.0"),
        ("sysName", "1.3.6.1.2.1.1.5.0"),
        ("busyPer", "1.3.6.1.4.1.9.2.1.56.0"),
        ("avgBusy1", "1.3.6.1.4.1.9.2.1.57.0"),
        ("freeMem", "1.3.6.1.4.1.9.2.1.8.0"),
        ("ifDescr", "1.3.6.1.2.1.2.2.1.2"),
        ("ifOperStatus", "1.3.6.1.2.1.2.2.1.8"),
        ("ifInOctets", "1.3.6.1.2.1.2.2.1.10"),
        ("ifOutOctets", "1.3.6.1.2.1.2.2.1.16"),
    ],
)
def test_it_has_the_oids_the_product_plan_names(name, oid):
    assert resolve(name) == oid


def test_it_suggests_close_names_for_a_typo():
    with pytest.raises(KeyError) as caught:
        resolve("sysUptime")
    assert str(caught.value) == "unknown OID name 'sysUptime'; did you mean sysUpTime, sysName?"


def test_it_names_an_unknown_name_without_guessing_wildly():
    with pytest.raises(KeyError) as caught:
        lookup("bogus")
    assert str(caught.value) == "unknown OID name 'bogus'"


def test_it_rejects_a_malformed_index():
    with pytest.raises(ValueError, match="arc 11 'x' is not a number"):
        resolve("ifOperStatus.x")


def test_names_and_oids_are_unique():
    assert len(BY_NAME) == len(LIBRARY)
    assert len({obj.oid for obj in LIBRARY}) == len(LIBRARY)


def test_hc_counters_fall_back_to_their_32_bit_twins():
    for hc, legacy in HC_FALLBACK.items():
        assert (lookup(hc).syntax, lookup(legacy).syntax) == (Syntax.COUNTER64, Syntax.COUNTER32)
        assert lookup(hc).units == lookup(legacy).units


@pytest.mark.parametrize("obj", LIBRARY, ids=lambda obj: obj.name)
def test_every_library_oid_parses(obj: MibObject):
    arcs = parse_oid(obj.poll_oid)
    assert arcs[:6] in {(1, 3, 6, 1, 2, 1), (1, 3, 6, 1, 4, 1)}  # mib-2 or enterprises
    assert obj.kind is Kind.COLUMN or arcs[-1] == 0


@pytest.mark.parametrize("text", ["1.3.6.1.2.1.1.3.0", ".1.3.6.1", "0.0", "2.999.1", f"1.3.{MAX_ARC_VALUE}"])
def test_it_accepts_well_formed_oids(text):
    assert is_valid_oid(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "OID is empty"),
        (".", "OID is empty"),
        ("1..3", "arc 2 is empty"),
        ("1.3.", "arc 3 is empty"),
        ("1.3.6.a", "arc 4 'a' is not a number"),
        ("iso.3.6", "arc 1 'iso' is not a number"),
        ("1.3.-1", "arc 3 '-1' is not a number"),
        (" 1.3", "arc 1 ' 1' is not a number"),
        ("\u0661.\u0663", "arc 1 '\u0661' is not a number"),  # Arabic-Indic digits pass str.isdigit
        ("1.03", "arc 2 '03' has a leading zero"),
        ("1", "needs at least two arcs"),
        ("3.1", "first arc must be 0, 1 or 2, not 3"),
        ("1.40", "second arc must be at most 39 under 1, not 40"),
        ("0.40", "second arc must be at most 39 under 0, not 40"),
        (f"1.3.{MAX_ARC_VALUE + 1}", f"arc {MAX_ARC_VALUE + 1} exceeds {MAX_ARC_VALUE}"),
        ("1.3" + ".1" * 127, "has 129 arcs, SNMP allows at most 128"),
    ],
)
def test_it_rejects_malformed_oids_saying_why(text, why):
    assert not is_valid_oid(text)
    with pytest.raises(ValueError) as caught:
        parse_oid(text)
    assert why in str(caught.value)


well_formed_arcs = st.tuples(
    st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, MAX_ARC_VALUE), max_size=126)
).map(lambda parts: (parts[0], parts[1], *parts[2]))


@given(arcs=well_formed_arcs, leading_dot=st.booleans())
def test_parsing_round_trips(arcs, leading_dot):
    text = ("." if leading_dot else "") + ".".join(map(str, arcs))
    assert parse_oid(text) == arcs


# Real devices: every object is found in a snmpsim-data recording of its vendor, with the type we declare.


def test_every_mib_is_checked_against_recordings_or_explained():
    assert {obj.mib for obj in LIBRARY} == set(VENDOR_RECORDINGS) | STANDARD_MIBS | WITHOUT_RECORDING


@pytest.fixture(scope="module")
def recordings() -> list[Path]:
    """snmpsim-data's recordings, smallest first so most look-ups stop early."""
    spec = importlib.util.find_spec("snmpsim_data")
    if spec is None or spec.origin is None:
        pytest.skip("snmpsim-data is not installed: library OIDs not checked against device recordings")
    data = Path(spec.origin).parent / "data"
    return sorted(data.rglob("*.snmprec*"), key=lambda path: path.stat().st_size)


@functools.cache
def recording_text(path: Path) -> str:
    raw = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return "\n" + raw.decode("latin-1")  # so every line, the first too, starts with "\n"


def first_recorded(obj: MibObject, recordings: list[Path]) -> tuple[str, str] | None:
    """(recording name, type tag) of the first recording holding an instance of `obj`."""
    vendor = VENDOR_RECORDINGS.get(obj.mib, "")
    for path in (path for path in recordings if vendor in path.name):
        text = recording_text(path)
        at = text.find(f"\n{obj.oid}.")
        if at >= 0:
            line = text[at + 1 : text.index("\n", at + 1)]
            return path.name, line.split("|")[1]
    return None


@pytest.mark.parametrize("obj", [o for o in LIBRARY if o.mib not in WITHOUT_RECORDING], ids=lambda obj: obj.name)
def test_real_devices_hold_the_object_with_its_declared_type(obj: MibObject, recordings):
    found = first_recorded(obj, recordings)
    assert found, f"{obj.name} ({obj.oid}) is in no {VENDOR_RECORDINGS.get(obj.mib, 'snmpsim-data')} recording"
    name, tag = found
    assert TAG_SYNTAX[tag.split(":")[0].rstrip("x")] == obj.syntax, f"{name} sends {obj.name} as type {tag}"
