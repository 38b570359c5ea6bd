"""``OssClient.presign`` and ``ossutil sign`` URLs used against the real server with no other
credentials: GET/HEAD/PUT in V1 and V4; expired and tampered URLs are refused. (Byte-level
agreement with oss2, oss-v2 and Go is in tests/wire and tests/cli.)"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.cli.clitools import run_ours
from tests.support.server import RunningServer, start_server

from ossutil.client import Credentials, OssClient

BUCKET = "presign-bucket"
KEY = "dir/a b+é~.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("presign-data"))
    try:
        with _client(running, "v1") as client:
            client.create_bucket(BUCKET)
            client.put_object(BUCKET, KEY, _file(tmp_path_factory.mktemp("body"), b"hello"))
        yield running
    finally:
        running.stop()


def _file(folder: Path, data: bytes) -> str:
    path = folder / "body.bin"
    path.write_bytes(data)
    return str(path)


def _client(server: RunningServer, version: str, **kwargs: object) -> OssClient:
    return OssClient(server.endpoint, Credentials(server.access_key_id, server.access_key_secret),
                     region=server.region, sign_version=version,  # type: ignore[arg-type]
                     **kwargs)  # type: ignore[arg-type]


def _fetch(url: str, method: str = "GET", data: bytes | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_presigned_get_and_head_work_without_credentials(server: RunningServer,
                                                         version: str) -> None:
    client = _client(server, version)
    assert _fetch(client.presign("GET", BUCKET, KEY, 300)) == (200, b"hello")
    status, _ = _fetch(client.presign("HEAD", BUCKET, KEY, 300), method="HEAD")
    assert status == 200


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_presigned_put_with_signed_headers(server: RunningServer, version: str) -> None:
    client = _client(server, version)
    headers = {"Content-Type": "text/plain", "x-oss-meta-owner": "me"}
    url = client.presign("PUT", BUCKET, "put/new.txt", 300, headers=list(headers.items()))
    assert _fetch(url, "PUT", b"uploaded", headers)[0] == 200
    assert _fetch(client.presign("GET", BUCKET, "put/new.txt", 300)) == (200, b"uploaded")
    # the signed header is part of the contract: another value does not verify
    status, body = _fetch(url, "PUT", b"x", {**headers, "x-oss-meta-owner": "mallory"})
    assert status == 403 and b"SignatureDoesNotMatch" in body


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_expired_and_tampered_urls_are_refused(server: RunningServer, version: str) -> None:
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    expired = _client(server, version).presign("GET", BUCKET, KEY, 60, now=past)
    status, body = _fetch(expired)
    assert status == 403 and b"AccessDenied" in body
    url = _client(server, version).presign("GET", BUCKET, KEY, 300)
    status, body = _fetch(url.replace("a%20b", "c%20b"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


@pytest.mark.parametrize("extra", [[], ["--sign-version", "v4", "--region", "cn-hangzhou"],
                                   ["--disable-encode-slash", "--timeout", "30"]],
                         ids=["v1", "v4", "slash"])
def test_ossutil_sign_url_downloads_the_object(server: RunningServer, extra: list[str],
                                               tmp_path: Path) -> None:
    outcome = run_ours(["sign", f"oss://{BUCKET}/{KEY}", "-e", server.endpoint,
                        "-i", server.access_key_id, "-k", server.access_key_secret,
                        "-c", str(tmp_path / "none.cfg"), *extra])
    assert outcome.code == 0, outcome.text
    assert _fetch(outcome.text.split("\n", 1)[0]) == (200, b"hello")
