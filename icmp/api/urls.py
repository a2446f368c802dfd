from django.urls import path

from icmp.api import views

app_name = "icmp-api"

urlpatterns = [
    path("status", views.ICMPStatusView.as_view(), name="status"),
    path("history/<int:device_id>", views.ICMPHistoryView.as_view(), name="history"),
]
