# The Celery app is made when Django starts, so that @shared_task binds to it (Celery's Django
# guide); without a broker its tasks run eagerly (config/settings/tasks.py).
from config.celery import app as celery_app

__all__ = ("celery_app",)
