from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from wardsite import dashboard, health_views, job_views
from wardsite.api_root import APIRootView

admin.site.site_header = "WARD FLUX"
admin.site.site_title = "WARD FLUX"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index")),
    path("favicon.ico", RedirectView.as_view(url=static("wardsite/favicon.svg"))),  # browsers ask every page
    path("admin/reports/", include("alerts.admin_urls")),  # the availability report
    path("admin/dashboard/<slug:name>/", dashboard.panel_view, name="dashboard-panel"),  # a panel, for htmx
    path("admin/jobs/", job_views.job_list, name="job-list"),  # the last day's bulk actions run as jobs
    path("admin/jobs/<str:job_id>/", job_views.progress, name="job-progress"),  # a bulk action's progress
    path("admin/jobs/<str:job_id>/cancel/", job_views.cancel, name="job-cancel"),
    path("admin/", admin.site.urls),
    re_path(r"^api/v1/?$", APIRootView.as_view(), name="api-root"),
    path("api/v1/", include("devices.api.urls")),
    path("api/v1/", include("templates_app.api.urls")),
    path("api/v1/monitoring/snmp/", include("snmp.api.urls")),
    path("api/v1/monitoring/icmp/", include("icmp.api.urls")),
    path("api/v1/monitoring/alerts/", include("alerts.api.urls")),
    path("api/v1/reports/", include("alerts.api.report_urls")),
    path("api/v1/monitoring/discovery/", include("discovery.api.urls")),
    path("api/v1/zabbix/", include("zabbix_bridge.api.urls")),
    path("api/v1/", include("wardsite.audit_api")),  # api/v1/audit/: the audit trail, read-only
    path("api/v1/auth/", include("wardsite.api_auth")),
    # the schema and its docs page only for users logged in (a browser without a session is sent to the login)
    re_path(r"^api/v1/schema/?$", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    re_path(r"^api/v1/docs/?$", login_required(
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[IsAuthenticated]),
        login_url="admin:login"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", health_views.healthz, name="healthz"),  # docs/operations.md
    path("metrics", health_views.metrics, name="metrics"),
]
