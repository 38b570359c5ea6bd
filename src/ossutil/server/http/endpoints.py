"""The server's own endpoints, under ``/-/`` on its own hosts (``router.SERVER_PATH_SEGMENT``).

They answer before any bucket routing and need no signature (``/-/`` can never be a bucket:
bucket names start with a letter or digit):

- ``/-/health`` (liveness): 200 ``{"status":"ok"}`` while the process answers HTTP at all;
- ``/-/ready`` (readiness): 200 when the store answers a read within ``READY_STORE_SECONDS``,
  the caches are loaded (keys, the store's change counters) and the listeners are up; else 503
  naming what is not (``starting``, ``draining`` after SIGTERM, ``store unavailable``);
- ``/-/metrics``: Prometheus' text format (``server/metrics.py``; docs/operations.md says what
  each figure means).

The composition root (``runtime.start``) fills the table the pipeline dispatches on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from ossutil.wire.errors import OssError

Endpoint = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

READY_STORE_SECONDS = 2.0  # a readiness probe's store read; longer is "store unavailable"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


async def health(request: web.BaseRequest) -> web.StreamResponse:
    """``GET /-/health``: 200 while this process serves requests."""
    return web.Response(body=b'{"status":"ok"}\n', content_type="application/json")


DEFAULT_ENDPOINTS: Mapping[str, Endpoint] = {"health": health, "live": health}


class Readiness:
    """What ``/-/ready`` reports: set by the runtime as the process starts and stops."""

    def __init__(self, store_probe: Callable[[], Awaitable[object]],
                 caches_loaded: Callable[[], bool]) -> None:
        self._probe = store_probe
        self._caches_loaded = caches_loaded
        self.listening = False  # every listener is open
        self.draining = False  # SIGTERM: finishing in-flight requests, taking no new ones

    async def report(self) -> tuple[bool, dict[str, str]]:
        checks = {"listeners": "up" if self.listening else "starting",
                  "caches": "loaded" if self._caches_loaded() else "loading"}
        try:
            await asyncio.wait_for(self._probe(), READY_STORE_SECONDS)
            checks["store"] = "ok"
        except OssError as error:
            checks["store"] = f"unavailable ({error.code})"
        except TimeoutError:
            checks["store"] = f"unavailable (no answer within {READY_STORE_SECONDS:g} s)"
        if self.draining:
            checks["listeners"] = "draining"
        ready = (checks["listeners"] == "up" and checks["caches"] == "loaded"
                 and checks["store"] == "ok")
        return ready, checks

    async def serve(self, request: web.BaseRequest) -> web.StreamResponse:
        ready, checks = await self.report()
        body = {"status": "ready" if ready else "not ready", **checks}
        return web.Response(status=200 if ready else 503,
                            body=(json.dumps(body) + "\n").encode(),
                            content_type="application/json")


def metrics(collect: Callable[[], Awaitable[bytes]]) -> Endpoint:
    """``GET /-/metrics``: what ``collect`` writes, as Prometheus' text format (figures and
    the server's own label values only: no bucket, key or domain a client named)."""
    async def serve_metrics(request: web.BaseRequest) -> web.StreamResponse:
        response = web.Response(body=await collect())
        response.headers["Content-Type"] = PROMETHEUS_TEXT
        return response
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
