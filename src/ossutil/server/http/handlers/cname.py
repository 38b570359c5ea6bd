"""CNAME handlers: decode the request, call CnameService, encode OSS's XML."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ossutil.server.http.responses import xml_response
from ossutil.server.models import Binding, Bucket, CnameTokenRecord
from ossutil.wire import dates
from ossutil.wire.cname_xml import (
    CertificateSummary,
    CnameInfo,
    CnameToken,
    ListCnameResult,
    decode_cname_configuration,
    encode_cname_token,
    encode_list_cname_result,
)

if TYPE_CHECKING:
    from ossutil.server.http.call import Call


def _token_xml(record: CnameTokenRecord) -> web.Response:
    return xml_response(encode_cname_token(CnameToken(
        record.bucket, record.domain, record.token, dates.rfc1123(record.expires_at))))


def cname_info(binding: Binding) -> CnameInfo:
    cert = binding.served_certificate  # an uploaded one wins; else the automatic (ACME) one
    summary = None
    if cert is not None:
        summary = CertificateSummary(
            type=cert.type, cert_id=cert.cert_id, status="Enabled",
            creation_date=dates.rfc1123(binding.cert_attached_at or cert.created_at),
            fingerprint=cert.fingerprint,
            valid_start_date=dates.openssl_text(cert.not_before),
            valid_end_date=dates.openssl_text(cert.not_after))
    return CnameInfo(binding.domain, dates.iso8601_ms(binding.last_modified), binding.status,
                     False, summary)


async def create_cname_token(call: Call) -> web.Response:
    config = decode_cname_configuration(call.body)
    return _token_xml(await call.services.cnames.create_token(call.require_bucket(), config.domain))


async def get_cname_token(call: Call) -> web.Response:
    domain = call.query.get("cname", "")
    return _token_xml(await call.services.cnames.get_token(call.require_bucket(), domain))


async def put_cname(call: Call) -> web.Response:
    config = decode_cname_configuration(call.body)
    await call.services.cnames.put_cname(call.require_bucket(), config)
    return web.Response()


async def list_cname(call: Call) -> web.Response:
    bucket = call.require_bucket()
    bindings = await call.services.cnames.list_cnames(bucket)
    return xml_response(list_cname_document(bucket, bindings))


_RENDERED_KEPT = 1024
_rendered: dict[str, tuple[Bucket, tuple[Binding, ...], bytes]] = {}


def list_cname_document(bucket: Bucket, bindings: tuple[Binding, ...]) -> bytes:
    """ListCname's XML for these bindings, rendered once per version of them: ReadCache hands
    out the same tuple until the bindings change, so an identity check finds the rendering
    (encoding walks every character and formats every date; a listing is read far more often
    than it changes)."""
    kept = _rendered.get(bucket.name)
    if kept is not None and kept[0] is bucket and kept[1] is bindings:
        return kept[2]
    body = encode_list_cname_result(ListCnameResult(
        bucket.name, bucket.owner_id, tuple(cname_info(b) for b in bindings)))
    if len(_rendered) >= _RENDERED_KEPT:
        _rendered.clear()
    _rendered[bucket.name] = (bucket, bindings, body)
    return body


async def delete_cname(call: Call) -> web.Response:
    config = decode_cname_configuration(call.body)
    await call.services.cnames.delete_cname(call.require_bucket(), config.domain)
    return web.Response()
