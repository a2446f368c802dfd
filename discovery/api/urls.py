from django.urls import re_path

from discovery.api import views
from wardsite.api import OptionalSlashRouter

app_name = "discovery-api"

router = OptionalSlashRouter()
router.register("rules", views.DiscoveryRuleViewSet)
router.register("runs", views.DiscoveryRunViewSet)
router.register("results", views.DiscoveryResultViewSet)

urlpatterns = [
    re_path(r"^scan/?$", views.ScanView.as_view(), name="scan"),
    re_path(r"^add-devices/?$", views.AddDevicesView.as_view(), name="add-devices"),
    *router.urls,
]
