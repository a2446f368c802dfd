from rest_framework.permissions import DjangoModelPermissions
from rest_framework.viewsets import ModelViewSet

from snmp.api.serializers import SNMPCredentialSerializer
from snmp.models import SNMPCredential


class SNMPCredentialViewSet(ModelViewSet):
    queryset = SNMPCredential.objects.all()
    serializer_class = SNMPCredentialSerializer
    permission_classes = [DjangoModelPermissions]
    filterset_fields = ["version"]
    search_fields = ["name", "security_name"]
