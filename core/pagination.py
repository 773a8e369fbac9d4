"""The one pagination every list endpoint uses: ?page=&page_size= (max 100)."""

from django.core.paginator import Page, Paginator
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def page_data(request, results, *, total: int, number: int, size: int) -> dict:
    """The envelope (`count`, `next`, `previous`, `results`) of a page a selector cut itself
    (page `number` of `size` items out of `total`), with the links the paginator would give."""
    pages: Paginator = Paginator([], size)
    pages.count = total  # known already: the paginator must not count `[]`
    paginator = PageNumberPagination()
    paginator.request, paginator.page = request, Page(results, number, pages)
    return paginator.get_paginated_response(results).data
