"""Argon2id with costs from settings, so each environment can tune it to its hardware."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.ARGON2_MEMORY_COST_KIB

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM
