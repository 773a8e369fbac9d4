# The web image: Django under gunicorn, as a non-root user: REST (the `web` service, this CMD) and
# the chat sockets (the `ws` service: the same gunicorn with uvicorn workers on config.asgi, its
# command in docker-compose.yml). nginx, PostgreSQL and Redis run from their official images.
FROM python:3.11.15-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

# gettext's msgfmt compiles the Korean message catalogue (compilemessages below); ffmpeg (and
# ffprobe) transcode uploaded videos in the Celery worker, which runs this same image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent app

WORKDIR /app

# Requirements first: the dependency layer stays cached while only the code changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root, so the app user cannot change it.
COPY . .

# Production settings refuse to import without their secrets. These placeholders exist only for
# this step's shell and are not kept in the image; nothing here connects to the database.
RUN export DJANGO_SECRET_KEY=build-only-placeholder-0123456789-abcdefghijklmnopqrstuvwxyz \
        JWT_SIGNING_KEY=build-only-jwt-placeholder-0123456789-abcdefghijklmnopqrstuvwxyz \
        MEDIA_SIGNING_KEY=build-only-media-placeholder-0123456789-abcdefghijklmnopqrstuvwxyz \
        DJANGO_ALLOWED_HOSTS=build.invalid \
        DATABASE_URL=postgres://build@build.invalid:5432/build \
        REDIS_URL=redis://build.invalid:6379/0 \
        KAKAOPAY_SECRET_KEY=build-only-placeholder \
        PAYMENT_CALLBACK_BASE_URL=https://build.invalid/payments \
        PUBLIC_BASE_URL=https://build.invalid \
    && python manage.py collectstatic --noinput -v 0 \
    && python manage.py compilemessages -v 0

# Named volumes mounted on these start with this ownership, so the app user can write uploads
# and the entrypoint can refresh the static files.
RUN mkdir -p /app/media /app/protected_media \
    && chown -R app:app /app/staticfiles /app/media /app/protected_media

USER app

EXPOSE 8000

# Generous start period: the entrypoint may wait for the database and migrate first.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi:application"]
