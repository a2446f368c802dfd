from rest_framework.routers import DefaultRouter

from snmp.api import views

app_name = "snmp-api"

router = DefaultRouter(trailing_slash="/?")
router.register("credentials", views.SNMPCredentialViewSet)
urlpatterns = router.urls
