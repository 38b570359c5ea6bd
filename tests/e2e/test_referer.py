"""Hotlink protection (issue 12 §3) through the real server: PutBucketReferer /
GetBucketReferer with oss2 and alibabacloud-oss-v2 unchanged (exact XML both ways, OSS's
errors), and the check OSS makes on anonymous and presigned reads (never on requests with an
Authorization header): AllowEmptyReferer, the blacklist before the whitelist, ``*`` and ``?``,
AllowTruncateQueryString and TruncatePath; 403 AccessDenied "You are denied by bucket referer
policy." with EC 0003-00000501/502/503. The HTTP front (which answers cached reads from memory)
must never serve a hotlinked request: a configuration change is seen by the very next read.
"""

from __future__ import annotations

from typing import Any

import oss2
import pytest
from tests.e2e.test_front import FRONT, Watch, make_site
from tests.support.raw import Reply, as_root, error_code, send
from tests.support.sdk import oss_v2_client
from tests.support.server import RunningServer

from ossutil.wire.referer_xml import RefererConfiguration, decode_referer_configuration

SITE = "https://www.example.com"
DEFAULT = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b"<RefererConfiguration>\n"
           b"  <AllowEmptyReferer>true</AllowEmptyReferer>\n"
           b"  <AllowTruncateQueryString>true</AllowTruncateQueryString>\n"
           b"  <TruncatePath>false</TruncatePath>\n"
           b"  <RefererList></RefererList>\n"
           b"</RefererConfiguration>\n")


@pytest.fixture
def site(unverified_server: RunningServer, bucket_name: str, domain: str) -> Any:
    made = make_site(unverified_server, bucket_name, domain)
    made.put("logo.png", b"\x89PNG fake image", {"Content-Type": "image/png"})
    return made


def get_referer(server: RunningServer, bucket: str) -> Reply:
    return as_root(server, "GET", bucket, query=[("referer", "")])


def put_referer(server: RunningServer, bucket: str, body: bytes) -> Reply:
    return as_root(server, "PUT", bucket, query=[("referer", "")], body=body,
                   headers={"Content-Type": "application/xml"})


def fetch(site: Any, referer: str | None = None, path: str = "/logo.png") -> Reply:
    headers = {"Host": site.domain}
    if referer is not None:
        headers["Referer"] = referer
    return send(site.server.endpoint, "GET", path, headers=headers)


def refused(reply: Reply, ec: str) -> bool:
    return (error_code(reply) == (403, "AccessDenied")
            and "<Message>You are denied by bucket referer policy.</Message>" in reply.text
            and f"<EC>{ec}</EC>" in reply.text)


# --- the API ----------------------------------------------------------------------------------

def test_oss2_put_and_get_referer(site: Any) -> None:
    reply = get_referer(site.server, site.bucket)  # never configured: everyone allowed
    assert (reply.status, reply.body) == (200, DEFAULT)
    got = site.client.get_bucket_referer()
    assert (got.allow_empty_referer, got.referers) == (True, [])
    config = oss2.models.BucketReferer(False, [f"{SITE}/*", "https://*.example.org"],
                                       allow_truncate_query_string=False,
                                       black_referers=["https://bad?.example.org"])
    sent = oss2.xml_utils.to_put_bucket_referer(config)
    assert decode_referer_configuration(sent) == RefererConfiguration(
        allow_empty_referer=False, allow_truncate_query_string=False,
        referer_list=(f"{SITE}/*", "https://*.example.org"),
        referer_blacklist=("https://bad?.example.org",))
    assert site.client.put_bucket_referer(config).status == 200
    assert get_referer(site.server, site.bucket).text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<RefererConfiguration>\n"
        "  <AllowEmptyReferer>false</AllowEmptyReferer>\n"
        "  <AllowTruncateQueryString>false</AllowTruncateQueryString>\n"
        "  <TruncatePath>false</TruncatePath>\n"
        "  <RefererList>\n"
        f"    <Referer>{SITE}/*</Referer>\n"
        "    <Referer>https://*.example.org</Referer>\n"
        "  </RefererList>\n"
        "  <RefererBlacklist>\n"
        "    <Referer>https://bad?.example.org</Referer>\n"
        "  </RefererBlacklist>\n"
        "</RefererConfiguration>\n")
    got = site.client.get_bucket_referer()
    assert (got.allow_empty_referer, got.referers, got.allow_truncate_query_string,
            got.black_referers) == (False, [f"{SITE}/*", "https://*.example.org"], False,
                                    ["https://bad?.example.org"])


def test_oss_v2_put_and_get_referer(site: Any) -> None:
    import alibabacloud_oss_v2 as oss

    client = oss_v2_client(site.server.endpoint, site.server.access_key_id,
                           site.server.access_key_secret, "v4", site.server.region)
    assert client.put_bucket_referer(oss.PutBucketRefererRequest(
        bucket=site.bucket, referer_configuration=oss.RefererConfiguration(
            allow_empty_referer=True, allow_truncate_query_string=True, truncate_path=True,
            referer_list=oss.RefererList(referers=["www.example.com"]),
            referer_blacklist=oss.RefererBlacklist(referers=[])))).status_code == 200
    assert get_referer(site.server, site.bucket).text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<RefererConfiguration>\n"
        "  <AllowEmptyReferer>true</AllowEmptyReferer>\n"
        "  <AllowTruncateQueryString>true</AllowTruncateQueryString>\n"
        "  <TruncatePath>true</TruncatePath>\n"
        "  <RefererList>\n"
        "    <Referer>www.example.com</Referer>\n"
        "  </RefererList>\n"
        "  <RefererBlacklist></RefererBlacklist>\n"
        "</RefererConfiguration>\n")
    got = client.get_bucket_referer(oss.GetBucketRefererRequest(bucket=site.bucket))
    config = got.referer_configuration
    assert (config.allow_empty_referer, config.truncate_path,
            config.referer_list.referers) == (True, True, ["www.example.com"])


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"<RefererConfiguration><RefererList/></RefererConfiguration>", 400, "MalformedXML"),
    (b"<RefererConfiguration><AllowEmptyReferer>maybe</AllowEmptyReferer>"
     b"</RefererConfiguration>", 400, "MalformedXML"),
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer>"
     b"<AllowTruncateQueryString>false</AllowTruncateQueryString>"
     b"<TruncatePath>true</TruncatePath></RefererConfiguration>", 400, "InvalidArgument"),
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><RefererList>"
     b"<Referer> </Referer></RefererList></RefererConfiguration>", 400, "InvalidArgument"),
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><RefererList>"
     b"<Referer>https://a&#1;</Referer></RefererList></RefererConfiguration>", 400,
     "InvalidArgument"),
])
def test_bad_configurations_are_refused_and_nothing_is_stored(
        server: RunningServer, bucket_name: str, body: bytes, status: int, code: str) -> None:
    assert as_root(server, "PUT", bucket_name).status == 200
    assert error_code(put_referer(server, bucket_name, body)) == (status, code)
    assert get_referer(server, bucket_name).body == DEFAULT


# --- the check ----------------------------------------------------------------------------

def test_whitelist_blacklist_and_empty_referers(site: Any) -> None:
    site.client.put_bucket_referer(oss2.models.BucketReferer(
        False, [f"{SITE}/*", "https://*.example.org", "http://cdn?.example.net"],
        black_referers=["https://bad.example.org"]))
    assert fetch(site, f"{SITE}/index.html").status == 200
    assert fetch(site, "https://img.example.org/gallery").status == 200  # a prefix match
    assert fetch(site, "http://cdn1.example.net/").status == 200  # ? is one character
    assert refused(fetch(site, "http://cdn12.example.net/"), "0003-00000503")
    assert refused(fetch(site, "https://elsewhere.example.com/page"), "0003-00000503")
    assert refused(fetch(site, "https://bad.example.org/"), "0003-00000502")  # blacklist first
    assert refused(fetch(site), "0003-00000501")  # no Referer
    assert refused(fetch(site, ""), "0003-00000501")  # an empty one
    site.client.put_bucket_referer(oss2.models.BucketReferer(True, [f"{SITE}/*"]))
    assert fetch(site).status == 200  # AllowEmptyReferer
    assert refused(fetch(site, "https://elsewhere.example.com/"), "0003-00000503")
    # a blacklist alone: everyone else may read
    site.client.put_bucket_referer(oss2.models.BucketReferer(
        False, [], black_referers=["*.evil.example"]))
    assert fetch(site, "https://fine.example.com/").status == 200
    assert fetch(site).status == 200  # empty, and the whitelist is empty too
    assert refused(fetch(site, "https://www.evil.example/x"), "0003-00000502")


def test_truncation_of_query_and_path(site: Any) -> None:
    exact = b"<Referer>https://www.example.com/page</Referer>"
    keep_query = (b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer>"
                  b"<AllowTruncateQueryString>false</AllowTruncateQueryString><RefererList>"
                  b"<Referer>https://www.example.com/page?ok=1</Referer></RefererList>"
                  b"</RefererConfiguration>")
    assert put_referer(site.server, site.bucket, keep_query).status == 200
    assert fetch(site, "https://www.example.com/page?ok=1").status == 200
    assert put_referer(site.server, site.bucket, (
        b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer><RefererList>"
        + exact + b"</RefererList></RefererConfiguration>")).status == 200
    assert fetch(site, "https://www.example.com/page?from=mail").status == 200
    assert put_referer(site.server, site.bucket, (
        b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer>"
        b"<AllowTruncateQueryString>true</AllowTruncateQueryString>"
        b"<TruncatePath>true</TruncatePath><RefererList>"
        b"<Referer>https://www.example.com</Referer></RefererList>"
        b"</RefererConfiguration>")).status == 200
    assert fetch(site, "https://www.example.com/any/page?x").status == 200
    assert refused(fetch(site, "https://other.example.com/"), "0003-00000503")


def test_presigned_reads_are_checked_signed_requests_are_not(site: Any) -> None:
    site.client.put_bucket_referer(oss2.models.BucketReferer(False, [f"{SITE}/*"]))
    url = site.client.sign_url("GET", "logo.png", 300)
    path_and_query = url.split(site.server.endpoint, 1)[1]
    path, _, query = path_and_query.partition("?")
    hotlinked = send(site.server.endpoint, "GET", path, query=query,
                     headers={"Referer": "https://elsewhere.example.com/"})
    assert refused(hotlinked, "0003-00000503")
    allowed = send(site.server.endpoint, "GET", path, query=query,
                   headers={"Referer": f"{SITE}/index.html"})
    assert (allowed.status, allowed.body) == (200, b"\x89PNG fake image")
    # an Authorization header: never checked
    assert site.client.get_object("logo.png", headers={
        "Referer": "https://elsewhere.example.com/"}).read() == b"\x89PNG fake image"
    # the endpoint's anonymous reads are checked as the domain's
    on_endpoint = send(site.server.endpoint, "GET", f"/{site.bucket}/logo.png",
                       headers={"Referer": "https://elsewhere.example.com/"})
    assert refused(on_endpoint, "0003-00000503")


def test_front_never_serves_a_hotlink_from_memory(site: Any) -> None:
    """The object is first answered from memory (no configuration); once PutBucketReferer
    commits, the next hotlinked read is refused (by the pipeline) and an allowed one is
    answered from memory again: the change replaced the cached Bucket, so the front's plans
    made from the old one lapse and the new ones check the configuration."""
    site.settle()
    hotlink = ("Referer", "https://elsewhere.example.com/gallery.html")
    watch = Watch(site.server)
    assert site.fetch("GET", "/logo.png", hotlink).status == 200  # fills the object cache
    watch.moved()
    assert site.fetch("GET", "/logo.png", hotlink).status == 200
    assert watch.moved() == FRONT  # from memory: no configuration yet
    site.client.put_bucket_referer(oss2.models.BucketReferer(False, [f"{SITE}/*"]))
    refused_reply = site.fetch("GET", "/logo.png", hotlink)
    assert (refused_reply.status, refused_reply.code()) == (403, "AccessDenied")
    assert b"You are denied by bucket referer policy." in refused_reply.body
    assert watch.moved()["answered"] == 0  # the pipeline refused it
    allowed = site.fetch("GET", "/logo.png", ("Referer", f"{SITE}/index.html"))
    assert (allowed.status, allowed.body) == (200, b"\x89PNG fake image")
    assert watch.moved() == FRONT
    # the hotlink again: still refused, by the pipeline, whatever the front remembers
    assert site.fetch("GET", "/logo.png", hotlink).status == 403
    assert watch.moved()["answered"] == 0
    # turned off again (an open configuration): the hotlink is served at once
    site.client.put_bucket_referer(oss2.models.BucketReferer(True, []))
    assert site.fetch("GET", "/logo.png", hotlink).status == 200


def test_every_worker_refuses_a_hotlink_at_once(tmp_path_factory: pytest.TempPathFactory,
                                                 ) -> None:
    """``serve --workers 2``: both workers hold the image in memory; PutBucketReferer through
    one of them is what every later read meets, on either worker, with no poll in between
    (the change beacon)."""
    import time

    from tests.e2e.test_workers import announced_pids, fresh_get
    from tests.support.server import start_server

    pair = start_server(tmp_path_factory.mktemp("referer-workers"), ["--no-dns-verify"],
                        workers=2)
    try:
        bucket, domain = "referer-workers", "img.workers.example.com"
        pids = announced_pids(pair)
        assert as_root(pair, "PUT", bucket, headers={"x-oss-acl": "public-read"}).status == 200
        assert as_root(pair, "PUT", bucket, "logo.png", body=b"image").status == 200
        document = (f"<BucketCnameConfiguration><Cname><Domain>{domain}</Domain></Cname>"
                    "</BucketCnameConfiguration>").encode()
        assert as_root(pair, "POST", bucket, query=[("cname", ""), ("comp", "add")],
                       body=document).status == 200
        hotlink = {"Host": domain, "Referer": "https://elsewhere.example.com/"}
        served = {pid: 0 for pid in pids}
        deadline = time.monotonic() + 10
        while min(served.values()) < 3 and time.monotonic() < deadline:  # each caches it
            pid, reply = fresh_get(pair, "/logo.png", hotlink, pids)
            if reply.status == 200 and pid is not None:
                served[pid] += 1
        assert min(served.values()) >= 3, served
        body = (b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer>"
                b"<RefererList><Referer>https://www.example.com/*</Referer></RefererList>"
                b"</RefererConfiguration>")
        assert put_referer(pair, bucket, body).status == 200
        seen: dict[int, list[int]] = {pid: [] for pid in pids}
        for _ in range(20):  # at once
            pid, reply = fresh_get(pair, "/logo.png", hotlink, pids)
            assert pid is not None
            seen[pid].append(reply.status)
        assert all(seen.values()), seen
        assert {status for statuses in seen.values() for status in statuses} == {403}
    finally:
        assert pair.stop() == 0
