"""Finding the page that serves a path with one query instead of seven.

Wagtail finds a page by walking the tree on every request: the site for the host, the locale, the
home page and its translation in the reader's language, then each slug down to the page and its
specific row. For residents' submissions that walk cost as much as storing the concern. This
middleware remembers, per site, language and path, which page answered, and primes Wagtail's own
per-request slots (`request._wagtail_site`, `request._wagtail_route_for_request`) so that
`wagtail.views.serve` runs unchanged: its hooks, view restrictions and the page's `serve`.

A remembered route is trusted only after checking the page it names, fetched fresh: it must still
exist, be live, and have the same `url_path` (so a renamed, moved or unpublished page, or a page
now shadowed by another with its old slug, falls back to the walk). The page's content is never
cached. What can be stale, for at most `ROUTE_CACHE_SECONDS`, is a route that a newly published
translation of the home page would now answer differently, and a Site whose hostname or root page
was just changed (cleared at once when the cache is shared, i.e. `CACHE_URL` on Redis).
"""

import hashlib

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404
from django.http.request import split_domain_port
from django.utils.translation import get_language
from wagtail import views as wagtail_views
from wagtail.models import Page, Site

ROUTE_CACHE_SECONDS = 60
SITE_CACHE_SECONDS = 60
SITE_KEYS = "convive:site-keys"


def _site_key(request) -> str:
    hostname = split_domain_port(request._get_raw_host())[0]
    return f"convive:site:{hostname}:{request.get_port()}"


def site_for_request(request) -> Site | None:
    """Wagtail's site for this host and port, from the cache when it has been looked up lately."""
    if hasattr(request, "_wagtail_site"):
        return request._wagtail_site
    key = _site_key(request)
    site = cache.get(key)
    if site is None:
        site = Site.find_for_request(request)
        if site is not None:
            cache.set(key, site, SITE_CACHE_SECONDS)
            cache.set(SITE_KEYS, {*cache.get(SITE_KEYS, set()), key}, None)
    request._wagtail_site = site
    return site


@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def _sites_changed(**kwargs) -> None:
    cache.delete_many(list(cache.get(SITE_KEYS, set())))


def _route_key(site: Site, path: str) -> str:
    digest = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
    return f"convive:route:{site.pk}:{site.root_page_id}:{get_language()}:{digest}"


def _route_remembered(request, site: Site, path: str, components: list[str]):
    remembered = cache.get(_route_key(site, path))
    if remembered is None:
        return None
    page_id, content_type_id, url_path, consumed = remembered
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    if model is None:
        return None
    page = model.objects.filter(pk=page_id, live=True, url_path=url_path).first()
    if page is None:
        return None
    return page.route(request, components[consumed:])


def route_for_request(request, path: str):
    """Wagtail's `Page.route_for_request`, answered from memory when the page still fits."""
    if hasattr(request, "_wagtail_route_for_request"):
        return request._wagtail_route_for_request
    site = site_for_request(request)
    if site is None:
        return None
    components = [component for component in path.split("/") if component]
    try:
        result = _route_remembered(request, site, path, components)
    except Http404:  # the page no longer has that sub-route: walk the tree
        result = None
    if result is not None:
        request._wagtail_route_for_request = result
        return result
    result = Page.route_for_request(request, path)
    if result is not None:
        page = result[0]
        consumed = page.depth - site.root_page.depth
        cache.set(
            _route_key(site, path),
            (page.pk, page.content_type_id, page.url_path, consumed),
            ROUTE_CACHE_SECONDS,
        )
    return result


class RouteCacheMiddleware:
    """Primes Wagtail's routing for requests that reach `wagtail.views.serve`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is wagtail_views.serve and view_args:
            route_for_request(request, view_args[0])
        return None
