"""Language for pages outside the language prefix (the APIs under /api/ and /open311/)."""

from django.conf import settings
from django.utils import translation

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class QueryLanguageMiddleware:
    """`?lang=xx` chooses the language of a page that has no /xx/ prefix.

    Machines call the APIs without a prefix, so their messages follow Accept-Language
    (LocaleMiddleware); a person reading the HTML pages of the OGC API in a browser needs a way to
    switch too, and the site's language links add `?lang=` there. Runs after LocaleMiddleware;
    prefixed pages ignore the parameter, and an unknown code changes nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = request.GET.get("lang", "")
        prefix = request.path_info.split("/", 2)[1]
        if code in LANGUAGE_CODES and prefix not in LANGUAGE_CODES:
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)
