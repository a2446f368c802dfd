from django.urls import re_path

from icmp.api import views

app_name = "icmp-api"

urlpatterns = [
    re_path(r"^status/?$", views.ICMPStatusView.as_view(), name="status"),
    re_path(r"^history/(?P<device_id>\d+)/?$", views.ICMPHistoryView.as_view(), name="history"),
]
