"""Request bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE are refused with HTTP 413 before anything reads them.

Django applies that setting to `request.body` and form data only; DRF's parsers read the request stream directly,
so without this a JSON body of any size would be read and parsed. The check is on Content-Length: a WSGI server
hands the application no more than that (a chunked body without one is read as empty).
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"The request body has {length:,} bytes, more than the {limit:,} "
                                           "this server takes (DATA_UPLOAD_MAX_MEMORY_SIZE)."}, status=413)
        return self.get_response(request)
