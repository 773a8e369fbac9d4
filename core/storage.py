"""Storage for files that must never be served publicly (lecture videos): its own root outside
MEDIA_ROOT, reached only through views that check access (STORAGES["protected"])."""

from django.core.files.storage import storages


def protected_storage():
    # A callable, so that migrations name this function instead of freezing a storage's settings.
    return storages["protected"]
