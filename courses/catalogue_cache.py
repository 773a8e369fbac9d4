"""The catalogue as everyone reads it alike, kept rendered in the shared cache and never stale.

What is kept: the course list without `search` or `mine` (the published catalogue, the same for
every caller) and the outline of a published course, each as its JSON bytes with a strong ETag,
by scheme, host, path and parsed query (the pagination links and file URLs are absolute). A
request with any other query parameter, a repeated one or a value in another spelling is
answered without the cache, so no caller can fill it with keys of their choosing.

One version number covers the whole catalogue. It is bumped after every committed write that can
change what the catalogue shows (a course, lecture, topic or category saved or deleted, or a
tutor's name), and kept answers are used only while the version they were made at is the
current one: a read after a write never sees the old answer. The version is read before the
database, so an answer made while a write commits is kept under the older version and never
served after it. Both keys are read through the near cache (core.near_cache), which every write
to them is announced to. CATALOGUE_CACHE_SECONDS = 0 turns all this off.
"""

import hashlib
import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpResponse

from accounts.models import CustomUser
from core import near_cache
from core.conditional import json_response, rendered
from core.pagination import PageNumberPagination
from courses.models import Category, Course, Lecture, Topic
from courses.selectors.catalogue_sql import SLUG

logger = logging.getLogger(__name__)

VERSION_KEY = "catalogue:version"


def _positive_integer(value: str) -> bool:
    return value.isdigit() and not value.startswith("0")


def _page_size(value: str) -> bool:
    return _positive_integer(value) and int(value) <= PageNumberPagination.max_page_size


# The list's query parameters, each with the spelling of its values that may be kept: one
# spelling per answer ("9", not "09" or "+9"; one ordering field, not "price,price"), so that the
# kept answers are bounded by the catalogue, not by what callers choose to send. Values the list
# refuses (400) are never kept, nor are empty pages (any unknown category gives one).
LIST_PARAMETERS: dict[str, Callable[[str], bool]] = {
    "page": _positive_integer,
    "page_size": _page_size,
    "category": lambda value: bool(SLUG.fullmatch(value)),
    "skill_level": lambda value: bool(value),
    "ordering": lambda value: bool(value) and "," not in value,
}


def _answer_key(request) -> str:
    # The parsed query, sorted: "%70age=1", "page=1&&" and "page=1" are one answer (the links in
    # it are rebuilt from the parsed query too), so they must be one key.
    query = urlencode(sorted(request.query_params.lists()), doseq=True)
    address = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    return "catalogue:answer:" + hashlib.blake2b(address.encode(), digest_size=16).hexdigest()


def keepable(request, parameters: dict[str, Callable[[str], bool]]) -> bool:
    """Whether `request`'s query holds nothing but `parameters`, once each, spelled as each
    accepts."""
    query = request.query_params
    return all(
        name in parameters and len(values) == 1 and parameters[name](values[0])
        for name, values in query.lists()
    )


def _respond(request, entry: dict) -> HttpResponse:
    return json_response(request, entry["body"], entry["etag"])


def _entry_made(data: dict, version) -> dict:
    body, etag = rendered(data)
    return {"version": version, "body": body, "etag": etag}


def answer(
    request,
    compute: Callable[[], tuple[dict, bool]],
    parameters: dict[str, Callable[[str], bool]] | None = None,
) -> HttpResponse:
    """The kept answer to `request`, or `compute()`'s: (the body's data, whether it may be kept).
    Only a request whose query holds nothing but `parameters`, once each and spelled as each
    accepts, is kept. `compute`'s errors propagate as they would without the cache."""
    seconds = settings.CATALOGUE_CACHE_SECONDS
    if not seconds or not keepable(request, parameters or {}):
        return _respond(request, _entry_made(compute()[0], None))
    key = _answer_key(request)
    try:
        kept, version = near_cache.versioned_entry(key, VERSION_KEY)
        if kept is not None:
            return _respond(request, kept)
    except Exception:
        logger.warning("catalogue cache unreachable; reading the database", exc_info=True)
        version = None
    data, keep = compute()
    entry = _entry_made(data, version)
    if keep and version is not None:
        try:
            cache.set(key, entry, timeout=seconds)
            near_cache.announce([key])
        except Exception:
            logger.warning("could not keep a catalogue answer", exc_info=True)
    return _respond(request, entry)


def catalogue_changed() -> None:
    """Call inside the write's transaction (or after it): every kept answer is dropped on commit."""
    transaction.on_commit(lambda: near_cache.version_bump(VERSION_KEY))


# Signals, so that the admin's edits count as well as the services'. The tree's bulk writes send
# none, but course_save() saves the course itself in the same transaction.
@receiver(post_save, sender=Course)
@receiver(post_delete, sender=Course)
@receiver(post_save, sender=Lecture)
@receiver(post_delete, sender=Lecture)
@receiver(post_save, sender=Topic)
@receiver(post_delete, sender=Topic)
@receiver(post_save, sender=Category)
@receiver(post_delete, sender=Category)
def _catalogue_row_changed(sender, **kwargs) -> None:
    catalogue_changed()


@receiver(post_save, sender=CustomUser)
def _tutor_changed(sender, instance: CustomUser, **kwargs) -> None:
    # The list and outlines show each course's tutor's username and name.
    if Course.objects.filter(tutor_id=instance.pk).exists():
        catalogue_changed()
