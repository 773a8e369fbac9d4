"""The environment every settings module reads: the process's variables, then the untracked .env
file (`make run` keeps its generated keys there, config/settings/local.py)."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
ENV_FILE = Path(os.environ.get("DJANGO_ENV_FILE") or BASE_DIR / ".env")
environ.Env.read_env(ENV_FILE, overwrite=False)

# Where the frontend is served: password-reset links and payment returns point there.
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000")
