from django.urls import re_path

from zabbix_bridge.api import views
from wardsite.api import OptionalSlashRouter

app_name = "zabbix-api"

router = OptionalSlashRouter()
router.register("servers", views.ZabbixServerViewSet)
router.register("hosts", views.ZabbixHostViewSet)
router.register("problems", views.ZabbixProblemViewSet)

urlpatterns = [
    re_path(r"^import/?$", views.ImportView.as_view(), name="import"),
    *router.urls,
]
