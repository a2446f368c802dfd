"""The admin's report pages (mounted before admin/ by wardsite/urls.py)."""
from django.contrib import admin
from django.urls import path

from alerts.admin_reports import availability_report

urlpatterns = [path("availability/", admin.site.admin_view(availability_report), name="availability-report")]
