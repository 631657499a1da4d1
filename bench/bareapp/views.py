import uuid

from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token

from .models import BareRow


def bare_submit(request):
    """GET: a CSRF token; POST: insert one row and redirect, like the concern form does."""
    if request.method != "POST":
        return HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')
    BareRow.objects.create(key=uuid.UUID(request.POST["key"]), body=request.POST.get("body", ""))
    return HttpResponseRedirect(request.path, status=303)
