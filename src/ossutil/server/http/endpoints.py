"""The server's own endpoints, under ``/-/`` on its own hosts (``router.SERVER_PATH_SEGMENT``).

They answer before any bucket routing and need no signature. ``health`` says the process is
up and serving; richer health, metrics and the like get their own entries in the table the
composition root (``server/app.py``) hands the pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ossutil.wire.errors import OssError

Endpoint = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


async def health(request: web.BaseRequest) -> web.StreamResponse:
    """``GET /-/health``: 200 while this process serves requests."""
    return web.Response(body=b'{"status":"ok"}\n', content_type="application/json")


DEFAULT_ENDPOINTS: Mapping[str, Endpoint] = {"health": health}


def metrics(counters: Callable[[], Mapping[str, float]]) -> Endpoint:
    """``GET /-/metrics``: the process's counters in Prometheus' text format, one
    ``ossutil_<name> <value>`` line each (names and values only: nothing a client sent)."""
    async def serve_metrics(request: web.BaseRequest) -> web.StreamResponse:
        lines = [f"ossutil_{name} {value:g}\n" for name, value in sorted(counters().items())]
        return web.Response(body="".join(lines).encode(),
                            content_type="text/plain", charset="utf-8")
    return serve_metrics


async def serve(endpoints: Mapping[str, Endpoint], name: str,
                request: web.BaseRequest) -> web.StreamResponse:
    """Answer ``/-/<name>``: GET and HEAD only; an unknown name is 404 in OSS's XML."""
    endpoint = endpoints.get(name)
    if endpoint is None:
        raise OssError.from_code("NoSuchKey", f"The server has no endpoint /-/{name[:64]}.")
    if request.method not in ("GET", "HEAD"):
        raise OssError.from_code("MethodNotAllowed",
                                 f"/-/{name} answers GET and HEAD only.")
    return await endpoint(request)
