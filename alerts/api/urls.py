from django.urls import re_path

from alerts.api import views
from wardsite.api import OptionalSlashRouter

app_name = "alerts-api"

router = OptionalSlashRouter()
router.register("rules", views.AlertRuleViewSet)
router.register("channels", views.NotificationChannelViewSet)
router.register("maintenance", views.MaintenanceWindowViewSet)


def _alerts(pattern: str, name: str, **methods: str):
    """A route to one AlertViewSet action (the alerts live at the root of monitoring/alerts/, beside rules)."""
    handler = getattr(views.AlertViewSet, next(iter(methods.values())))
    view = views.AlertViewSet.as_view(methods, **getattr(handler, "kwargs", {}))
    return re_path(rf"^{pattern}/?$", view, name=name)


urlpatterns = [
    _alerts("active", "alert-active", get="active"),
    _alerts("history", "alert-history", get="history"),
    _alerts(r"(?P<pk>\d+)", "alert-detail", get="retrieve"),
    _alerts(r"(?P<pk>\d+)/acknowledge", "alert-acknowledge", post="acknowledge"),
    _alerts(r"(?P<pk>\d+)/resolve", "alert-resolve", post="resolve"),
    *router.urls,
]
