import os

from django.core.wsgi import get_wsgi_application

from wardsite.celery import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wardsite.settings")
application = get_wsgi_application()
freeze_startup_objects()  # each web worker imports this after its fork: what it loaded stays out of collections
