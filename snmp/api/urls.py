from rest_framework.routers import DefaultRouter

from snmp.api import views

app_name = "snmp-api"

router = DefaultRouter(trailing_slash="/?")
router.register("credentials", views.SNMPCredentialViewSet)
router.register("items", views.MonitoringItemViewSet)
router.register("interfaces", views.InterfaceViewSet)
urlpatterns = router.urls
