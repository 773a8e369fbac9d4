"""Demo data for a fresh checkout: runs each installed app's `demo.load()`; idempotent."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load every app's demo data (apps in INSTALLED_APPS order); safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        for app_config in apps.get_app_configs():
            module_name = f"{app_config.name}.demo"
            if find_spec(module_name) is not None:
                import_module(module_name).load(stdout=self.stdout, style=self.style)
