"""Pages in a real browser for the tests: Debian's chromium driven by Playwright against the live test server, a
page logged in as a given user, and where its screenshots go (docs/img/, from the same run)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "img"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: make test installs it (Debian package chromium)"
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            yield launched
            launched.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def staff_operator(operator: User) -> User:
    """A user of the Operator role who may use the admin (Staff status: docs/permissions.md)."""
    operator.is_staff = True
    operator.save()
    return operator


def logged_in_page(browser, live_server, user: User):
    """A page logged in as `user`, and the list its console errors, uncaught exceptions and failed requests go to."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return page, errors
