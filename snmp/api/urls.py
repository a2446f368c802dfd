from django.urls import re_path
from wardsite.api import OptionalSlashRouter

from snmp.api import views

app_name = "snmp-api"

router = OptionalSlashRouter()
router.register("credentials", views.SNMPCredentialViewSet)
router.register("items", views.MonitoringItemViewSet)
router.register("interfaces", views.InterfaceViewSet)
urlpatterns = [
    re_path(r"^test/?$", views.SNMPTestView.as_view(), name="test"),
    re_path(r"^poll/?$", views.SNMPPollView.as_view(), name="poll"),
    *router.urls,
]
