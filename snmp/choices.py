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
    """Spelled as net-snmp spells them (snmpget -x)."""

    NONE = "", "None (no privacy)"
    DES = "DES", "DES"
    AES = "AES", "AES-128"
    AES192 = "AES-192", "AES-192"
    AES256 = "AES-256", "AES-256"
