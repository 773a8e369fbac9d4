"""The Celery application of the `worker` and `beat` services: settings from Django's
(CELERY_* in config/settings/tasks.py), tasks from each app's tasks.py.

    celery -A config worker     celery -A config beat
"""

from celery import Celery

# DJANGO_SETTINGS_MODULE comes from the environment (compose, the Makefile), as for manage.py.
app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
