from django.urls import re_path

from alerts.api.reports import AvailabilityReportView

app_name = "reports-api"

urlpatterns = [re_path(r"^availability/?$", AvailabilityReportView.as_view(), name="availability")]
