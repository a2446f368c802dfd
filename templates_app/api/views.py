import json

import yaml
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.mixins import DestroyModelMixin, ListModelMixin, RetrieveModelMixin
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from devices.models import Device
from snmp import services as snmp_services
from snmp.api.views import snmp_failure
from snmp.client import SNMPError
from templates_app import applier, library
from templates_app.api.serializers import DevicesSerializer, ImportSerializer, MonitoringTemplateSerializer
from templates_app.document import DocumentError, parse_document
from templates_app.models import MonitoringTemplate
from wardsite.permissions import needs


def _report(report: applier.ApplyReport) -> dict:
    return {"device": report.device, "created": report.created, "updated": report.updated,
            "removed": report.removed, "unchanged": report.unchanged, "problems": report.problems}


class MonitoringTemplateViewSet(ListModelMixin, RetrieveModelMixin, DestroyModelMixin, GenericViewSet):
    """The template library. Templates are written as documents (`import`) and read back as them (`export`)."""

    queryset = MonitoringTemplate.objects.prefetch_related("items", "triggers", "assignments__device")
    serializer_class = MonitoringTemplateSerializer
    filterset_fields = ["origin", "vendor"]
    search_fields = ["name", "key", "vendor", "description"]

    @extend_schema(request=ImportSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="import", permission_classes=[needs(
        "templates_app.add_monitoringtemplate", "templates_app.change_monitoringtemplate")])
    def import_(self, request: Request) -> Response:
        """Create or replace templates from a document or a Zabbix export; 400 with every error and its path.

        Returns the templates saved and, for Zabbix exports, what was not translated and why (`skipped`).
        """
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            if "document" in body.validated_data:
                result = library.ImportResult([library.save_spec(parse_document(body.validated_data["document"]))])
            else:
                result = library.import_text(body.validated_data["text"])
        except DocumentError as exc:
            raise ValidationError({"document": exc.errors}) from None
        return Response({"templates": self.get_serializer(result.templates, many=True).data,
                         "skipped": result.skipped}, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("as", str, enum=["json", "yaml"])], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> HttpResponse:
        """The template as a document, JSON (default) or YAML (`?as=yaml`)."""
        document = library.export_document(self.get_object())
        if request.query_params.get("as") == "yaml":
            return HttpResponse(yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
                                content_type="application/yaml")
        return HttpResponse(json.dumps(document, indent=2), content_type="application/json")

    @extend_schema(request=DevicesSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], permission_classes=[needs("devices.change_device")])
    def apply(self, request: Request, pk: str) -> Response:
        """Apply the template to devices (idempotent); one report per device."""
        body = DevicesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = self.get_object()
        return Response([_report(applier.apply(template, device)) for device in body.validated_data["devices"]])

    @extend_schema(request=DevicesSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], permission_classes=[needs("devices.change_device")])
    def unlink(self, request: Request, pk: str) -> Response:
        """Take the template off devices, removing its items (`remove_items`) or keeping them as local items."""
        body = DevicesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template, remove = self.get_object(), body.validated_data["remove_items"]
        return Response({device.name: applier.unlink(template, device, remove_items=remove)
                         for device in body.validated_data["devices"]})


class AutoTemplateView(APIView):
    """Pick the template matching the device's sysObjectID/sysDescr (read now if unknown) and apply it."""

    permission_classes = [needs("devices.change_device")]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        device = get_object_or_404(Device.objects.select_related("snmp_credential"), pk=pk)
        try:
            template, report = applier.auto_apply(device)
        except snmp_services.SNMPConfigError as exc:
            raise ValidationError({"device": [str(exc)]}) from None
        except SNMPError as exc:
            return snmp_failure(exc)
        if template is None:
            return Response({"detail": f"{device}: no template matches its sysObjectID/sysDescr"}, status=404)
        return Response({"template": template.key, "name": template.name, **_report(report)})
