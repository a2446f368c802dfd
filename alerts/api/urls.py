from alerts.api import views
from wardsite.api import OptionalSlashRouter

app_name = "alerts-api"

router = OptionalSlashRouter()
router.register("rules", views.AlertRuleViewSet)
router.register("channels", views.NotificationChannelViewSet)
urlpatterns = router.urls
