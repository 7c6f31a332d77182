import hashlib

from django.http import Http404, HttpResponse, HttpResponseForbidden, HttpResponseNotModified
from django.views.decorators.http import require_safe

from . import sources, tiles

# Logged-in users only (the demo's buildings are where its households live), so caches along
# the way keep a tile private; an hour, then the ETag makes the revalidation cheap.
CACHE_CONTROL = "private, max-age=3600"


@require_safe
def tile(request, z, x, y):
    """One vector tile of the basemap. Out of the tile grid: 404. Nothing there: 204 (a blank
    tile; the renderer draws the background)."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden()
    z, x, y = int(z), int(x), int(y)
    if not tiles.valid(z, x, y):
        raise Http404("no such tile")
    found = sources.tile(z, x, y)
    if found is None:
        response = HttpResponse(status=204)
        response["Cache-Control"] = CACHE_CONTROL
        return response
    data, encoding = found
    etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
        if encoding:
            response["Content-Encoding"] = encoding
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response
