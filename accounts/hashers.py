"""Argon2id with costs from settings, so each environment can tune it to its hardware."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    def __init__(self) -> None:
        # Django makes its hashers once per PASSWORD_HASHERS, after the settings are loaded.
        self.time_cost = settings.ARGON2_TIME_COST
        self.memory_cost = settings.ARGON2_MEMORY_COST_KIB
        self.parallelism = settings.ARGON2_PARALLELISM
