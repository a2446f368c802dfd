"""Loaded first (pytest.ini `-p tests.bootstrap`): test-only environment defaults, before Django reads settings.

Keys are generated per run, so nothing secret is stored in the repository.
"""
import os
import tempfile

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", "test-only-" + os.urandom(16).hex())
os.environ.setdefault("FERNET_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflux")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEVICE_NAME_FROM_DNS", "0")  # no DNS queries from tests (devices/tests/test_naming.py)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Notifications go to receivers on loopback; the SSRF tests (alerts/tests/test_outbound.py) narrow it again.
os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1")
os.environ.setdefault("HTTPS_ONLY", "0")  # the test client and servers speak plain HTTP (wardsite/tests/test_deploy.py)
# The suite makes thousands of requests as one client: throttling tests lower these themselves (wardsite/tests/
# test_throttling.py), everything else runs far below them.
for _scope in ("ANON", "USER", "LOGIN", "SCAN", "POLL"):
    os.environ.setdefault(f"API_THROTTLE_{_scope}", "100000/min")
# Not the checkout's var/: a `make run` there leaves keys and its instance's URLs that tests must not pick up.
os.environ.setdefault("WARDFLUX_VAR_DIR", tempfile.mkdtemp(prefix="wardflux-test-var-"))
