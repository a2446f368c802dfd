from django.urls import re_path
from wardsite.api import OptionalSlashRouter

from templates_app.api import views

app_name = "templates-api"

router = OptionalSlashRouter()
router.register("templates", views.MonitoringTemplateViewSet)
urlpatterns = [
    re_path(r"^devices/(?P<pk>\d+)/auto-template/?$", views.AutoTemplateView.as_view(), name="auto-template"),
    *router.urls,
]
