"""Loaded first (pytest.ini `-p tests.bootstrap`): test-only environment defaults, before Django reads settings.

Keys are generated per run, so nothing secret is stored in the repository.
"""
import os

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", "test-only-" + os.urandom(16).hex())
os.environ.setdefault("FERNET_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflux")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
