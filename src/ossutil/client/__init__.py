"""The Python API for OSS bucket custom domains (CNAME), usable without the CLI.

    from ossutil.client import Credentials, OssClient, OssError
    from ossutil.wire.cname_xml import CnameConfiguration

    client = OssClient("http://127.0.0.1:9000", Credentials("LTAI...", "secret"),
                       region="cn-hangzhou", sign_version="v4")
    token = client.create_cname_token("examplebucket", "www.example.com")
    # publish TXT _dnsauth.www.example.com = token.token, then:
    try:
        client.put_cname("examplebucket", CnameConfiguration("www.example.com"))
    except OssError as error:
        if error.code == "NeedVerifyDomainOwnership":
            ...
    print(client.list_cname("examplebucket"))

Modules: ``client`` (``OssClient``, ``Credentials``), ``transport`` (``Transport`` protocol and the
default on ``http11``, our own small HTTP/1.1 client: no ``http.client``, ``ssl`` only for
https), ``config`` (ossutil's config file and precedence chain), ``errors`` (local failures),
``gocompat`` (the Go behaviours ossutil shows on the wire).

Names are imported lazily (PEP 562) so ``import ossutil.client.config`` costs only that module.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from ossutil.client.client import (
        BucketInfo,
        BucketSummary,
        Credentials,
        ObjectPage,
        ObjectSummary,
        OssClient,
        UploadPage,
        UploadSummary,
    )
    from ossutil.client.errors import ClientError, ConfigError, UnexpectedStatusError
    from ossutil.client.transport import (
        HttpClientTransport,
        ProxyConfig,
        Request,
        Response,
        Transport,
        TransportError,
    )
    from ossutil.wire.errors import OssError

__all__ = ["OssClient", "Credentials", "BucketSummary", "BucketInfo", "ObjectSummary",
           "ObjectPage", "UploadSummary", "UploadPage", "OssError", "ClientError",
           "ConfigError", "UnexpectedStatusError", "Transport", "HttpClientTransport",
           "Request", "Response", "TransportError", "ProxyConfig"]

_WHERE = {
    "OssClient": "ossutil.client.client", "Credentials": "ossutil.client.client",
    "BucketSummary": "ossutil.client.client", "BucketInfo": "ossutil.client.client",
    "ObjectSummary": "ossutil.client.client", "ObjectPage": "ossutil.client.client",
    "UploadSummary": "ossutil.client.client", "UploadPage": "ossutil.client.client",
    "OssError": "ossutil.wire.errors", "ClientError": "ossutil.client.errors",
    "ConfigError": "ossutil.client.errors", "UnexpectedStatusError": "ossutil.client.errors",
    "Transport": "ossutil.client.transport", "HttpClientTransport": "ossutil.client.transport",
    "Request": "ossutil.client.transport", "Response": "ossutil.client.transport",
    "TransportError": "ossutil.client.transport", "ProxyConfig": "ossutil.client.transport",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ossutil.client' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
