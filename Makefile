# Every command a newcomer needs; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: help install install-dev messages migrate demo run test lint format superuser schema bench check-deploy clean \
	system-packages compose-config e2e fuzz faults bandit audit

help: ## List the commands
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv and install the runtime requirements

install-dev: $(VENV)/.installed-dev ## Install the runtime and test/lint requirements

messages: $(VENV)/.installed ## Compile the Korean/English message catalogues (needs gettext's msgfmt)
	@command -v msgfmt >/dev/null || { echo "msgfmt missing: apt-get install gettext"; exit 1; }
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

migrate: install messages ## Apply database migrations
	$(BIN)/python manage.py migrate --no-input -v 0

demo: migrate ## Load the demo users (idempotent) and print their logins
	$(BIN)/python manage.py seed_demo

APP_DIRS := config core accounts courses videos votes payments chat

run: demo ## Install, migrate, load demo data and serve REST and chat sockets on http://127.0.0.1:8000 (SQLite)
	$(BIN)/python -m uvicorn config.asgi:application --host $(HOST) --port $(PORT) \
		--reload $(addprefix --reload-dir ,$(APP_DIRS)) --ws websockets-sansio --ws-max-size 16384 \
		--ws-per-message-deflate false --lifespan off

# Test processes (pytest-xdist); CI has two cores. TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2

test: install-dev messages ## Run the whole test suite (DATABASE_URL picks PostgreSQL), with line coverage and its floor
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest -n $(TEST_WORKERS) --cov --cov-report=

lint: install-dev ## ruff lint and format check, mypy (django-stubs, djangorestframework-stubs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-dev ## Fix lint findings and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

superuser: migrate ## Create an admin account interactively
	$(BIN)/python manage.py createsuperuser

schema: install ## Write the OpenAPI schema to schema.yml, failing on any warning
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema.yml

check-deploy: install messages ## manage.py check --deploy with production settings and dummy secrets
	@DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	JWT_SIGNING_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	MEDIA_SIGNING_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=api.example.com DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
	REDIS_URL=redis://127.0.0.1:6379/0 KAKAOPAY_SECRET_KEY=dummy-kakaopay-secret \
	PAYMENT_CALLBACK_BASE_URL=https://app.example.com/payments PUBLIC_BASE_URL=https://api.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install ## Run every benchmark under bench/ (loopback only) and print the figures
	$(BIN)/python -m bench.run_all

system-packages: ## Install the missing system tools (gettext, nginx, openssl, chromium, certbot...)
	sh scripts/install-system-packages.sh

e2e: install-dev messages system-packages ## End to end on loopback: nginx + 2 gunicorn + PostgreSQL + Redis + Chromium
	$(BIN)/pytest -c e2e/pytest.ini e2e

fuzz: install-dev messages ## schemathesis against our OpenAPI schema on a live server (student, tutor, staff)
	$(BIN)/python -m fuzz.run

faults: install-dev messages system-packages ## Worker SIGKILL, PostgreSQL restart, Redis down under load (loopback)
	$(BIN)/python -m faults.run

bandit: install-dev ## Static security lint of the application code (findings justified inline)
	$(BIN)/bandit --quiet --recursive --configfile pyproject.toml .

audit: bandit ## bandit, then pip-audit on the pinned requirements (needs PyPI's JSON API or OSV)
	$(BIN)/pip-audit --strict --requirement requirements.txt --requirement requirements-dev.txt

compose-config: ## Validate docker-compose.yml with .env.example (docker-compose config -q)
	ENV_FILE=.env.example docker-compose --env-file .env.example config -q

clean: ## Remove the virtualenv, the SQLite database and compiled catalogues
	rm -rf $(VENV) db.sqlite3 staticfiles
	find locale -name '*.mo' -delete
