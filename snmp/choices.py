"""The snmp app's choices, among them the one list of SNMP versions and USM protocol names (net-snmp spelling)."""
from django.db import models


class SNMPVersion(models.TextChoices):
    V1 = "v1", "SNMPv1"
    V2C = "v2c", "SNMPv2c"
    V3 = "v3", "SNMPv3"


class AuthProtocol(models.TextChoices):
    """Spelled as net-snmp spells them (snmpget -a)."""

    NONE = "", "None (noAuthNoPriv)"
    MD5 = "MD5", "MD5"
    SHA = "SHA", "SHA-1"
    SHA224 = "SHA-224", "SHA-224"
    SHA256 = "SHA-256", "SHA-256"
    SHA384 = "SHA-384", "SHA-384"
    SHA512 = "SHA-512", "SHA-512"


class PrivProtocol(models.TextChoices):
    """Spelled as net-snmp spells them (snmpget -x).

    AES-192/AES-256 extend the key as net-snmp does (draft-blumenthal-aes-usm-04); the -C variants as Cisco does
    (Reeder), for devices that need it.
    """

    NONE = "", "None (no privacy)"
    DES = "DES", "DES"
    AES = "AES", "AES-128"
    AES192 = "AES-192", "AES-192"
    AES256 = "AES-256", "AES-256"
    AES192C = "AES-192-C", "AES-192 (Cisco key extension)"
    AES256C = "AES-256-C", "AES-256 (Cisco key extension)"


class ValueType(models.TextChoices):
    INTEGER = "integer", "Integer"
    FLOAT = "float", "Float"
    STRING = "string", "String"
    COUNTER = "counter", "Counter (stored as a rate per second)"


class IfStatus(models.IntegerChoices):
    """IF-MIB ifAdminStatus / ifOperStatus."""

    UP = 1, "up"
    DOWN = 2, "down"
    TESTING = 3, "testing"
    UNKNOWN = 4, "unknown"
    DORMANT = 5, "dormant"
    NOT_PRESENT = 6, "notPresent"
    LOWER_LAYER_DOWN = 7, "lowerLayerDown"
