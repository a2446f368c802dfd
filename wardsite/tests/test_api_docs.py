"""The Swagger UI at /api/v1/docs/ works offline: it loads only our own static files (drf-spectacular-sidecar), served
the way `make run` serves them (collectstatic, then WhiteNoise)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected_static(settings, tmp_path) -> None:
    """collectstatic into a directory of the test's own, as scripts/run.sh does before starting the server."""
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--no-input", verbosity=0)


def test_the_docs_page_loads_only_local_files_and_each_is_served(admin_user, collected_static):
    client = Client()  # a new client: WhiteNoise reads STATIC_ROOT when its middleware starts
    client.force_login(admin_user)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "//cdn" not in html
    assert set(re.findall(r"https?://([^/\"'\s]+)", html)) <= {"testserver"}
    files = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert len(files) >= 4, files  # the CSS, the two scripts and the icon
    for url in files:
        assert urlsplit(url).netloc in ("", "testserver"), url
        served = client.get(url)
        assert served.status_code == 200, url
        assert b"".join(served.streaming_content if served.streaming else [served.content]), url
