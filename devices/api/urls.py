from wardsite.api import OptionalSlashRouter

from devices.api import views

app_name = "devices-api"

router = OptionalSlashRouter()
router.register("devices", views.DeviceViewSet)
router.register("device-groups", views.DeviceGroupViewSet)
router.register("tags", views.TagViewSet)
router.register("monitoring-profiles", views.MonitoringProfileViewSet)
urlpatterns = router.urls
