"""The command lines both the golden and the differential tests run, as one table.

Each ``Case`` is a command line with placeholders, the server state it needs (``setup`` steps run
through ``OssClient``, so they work against the fake and the real server alike), files to create
in the run's working directory, and stdin. ``diff=False`` keeps a case out of the differential
run (our help prose is our own); ``fake_only`` cases script raw replies on ``FakeOss``.

Placeholders: ``{C}`` = ``-e {endpoint} -i {id} -k {secret} -c none.cfg``, ``{endpoint}``,
``{hostport}``, ``{id}``, ``{secret}``, ``{denied_id}``, ``{denied_secret}``, ``{region}``.
"""

from __future__ import annotations

import gzip
import shlex
from collections.abc import Sequence
from pathlib import Path

# {cert_pem}/{key_pem}: a certificate for www.example.com from tests/support/certs.py, so the
# real server accepts the upload as the fake does.
CERT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<BucketCnameConfiguration>
  <Cname>
    <Domain>www.example.com</Domain>
    <CertificateConfiguration>
      <Certificate>{cert_pem}</Certificate>
      <PrivateKey>{key_pem}</PrivateKey>
      <Force>true</Force>
    </CertificateConfiguration>
  </Cname>
</BucketCnameConfiguration>
"""
CASID_XML = b"""<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>
<CertificateConfiguration><CertId>12345678-cn-hangzhou</CertId></CertificateConfiguration>
</Cname></BucketCnameConfiguration>"""
DETACH_XML = b"""<BucketCnameConfiguration><Cname><Domain>www.example.com</Domain>
<CertificateConfiguration><DeleteCertificate>True</DeleteCertificate></CertificateConfiguration>
</Cname></BucketCnameConfiguration>"""
BOM_CERT_XML = b"\xef\xbb\xbf" + CERT_XML

BUCKET = "cli-golden"
DOMAIN = "www.example.com"


class Case:
    def __init__(self, name: str, argv: str, *, setup: Sequence[tuple[str, ...]] = (),
                 stdin: bytes = b"", files: dict[str, bytes | None] | None = None,
                 diff: bool = True, fake_only: bool = False,
                 script: Sequence[tuple[int, bytes, list[tuple[str, str]]]] = (),
                 reason: str | None = None, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = argv
        self.setup = tuple(setup)
        self.stdin = stdin
        self.files = files or {}
        self.diff = diff
        self.fake_only = fake_only or bool(script)
        self.script = tuple(script)
        self.reason = reason
        self.env = env or {}

    def __repr__(self) -> str:
        return f"Case({self.name})"

    def words(self, server: object) -> list[str]:
        values = placeholders(server)
        values["C"] = "-e {endpoint} -i {id} -k {secret} -c none.cfg".format(**values)
        return shlex.split(self.argv.format(**values))

    def command_line(self, server: object) -> str:
        return " ".join(shlex.quote(word) for word in self.words(server))


_PEM: list[str] = []


def certificate_pair() -> tuple[str, str]:
    """(certificate PEM, key PEM) for www.example.com, made once per session."""
    if not _PEM:
        from tests.support.certs import CertFactory

        _PEM.extend(CertFactory().leaf(DOMAIN))
    return _PEM[0], _PEM[1]


def placeholders(server: object) -> dict[str, str]:
    endpoint = server.endpoint  # type: ignore[attr-defined]
    cert_pem, key_pem = certificate_pair()
    return {
        "cert_pem": cert_pem,
        "key_pem": key_pem,
        "endpoint": endpoint,
        "hostport": endpoint.split("://", 1)[1],
        "port": endpoint.rsplit(":", 1)[1],
        "id": server.access_key_id,  # type: ignore[attr-defined]
        "secret": server.access_key_secret,  # type: ignore[attr-defined]
        "denied_id": getattr(server, "denied_key_id", "LTAI5tNoSuchKey00000000"),
        "denied_secret": getattr(server, "denied_key_secret", "nosuchsecret"),
        "region": server.region,  # type: ignore[attr-defined]
    }


def replacements(server: object, tmp: Path) -> list[tuple[str, str]]:
    """Literal texts to hide in outputs (longest first)."""
    values = placeholders(server)
    pairs = [(str(tmp), "{tmp}"), (values["endpoint"], "{endpoint}"),
             (values["hostport"], "{hostport}"), (values["secret"], "{secret}"),
             (values["id"], "{id}"), (values["denied_secret"], "{denied_secret}"),
             (values["denied_id"], "{denied_id}"), (":" + values["port"], ":{port}")]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def prepare(case: Case, server: object, tmp: Path) -> None:
    """Create the case's files and put the server in the state the case needs."""
    from ossutil.client import Credentials, OssClient

    values = placeholders(server)
    for rel, content in case.files.items():
        path = tmp / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            for key, value in values.items():
                content = content.replace(b"{" + key.encode() + b"}", value.encode())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if hasattr(server, "reset"):
        server.reset()
    with OssClient(server.endpoint,  # type: ignore[attr-defined]
                   Credentials(server.access_key_id,  # type: ignore[attr-defined]
                               server.access_key_secret)) as client:  # type: ignore[attr-defined]
        _apply(client, case.setup, server)
    if case.script:
        delay = 1.5 if case.name == "script_read_timeout" else 0.0
        for status, body, headers in case.script:
            server.queue(status, body, headers, delay=delay)  # type: ignore[attr-defined]


def _apply(client: object, steps: Sequence[tuple[str, ...]], server: object) -> None:
    from ossutil.wire.errors import OssError

    for step in steps:
        kind, bucket, *rest = step
        if kind in ("bucket", "bind", "token", "cert"):
            try:
                client.create_bucket(bucket)  # type: ignore[attr-defined]
            except OssError as error:
                if error.code != "BucketAlreadyExists":
                    raise
            for info in client.list_cname(bucket).cnames:  # type: ignore[attr-defined]
                client.delete_cname(bucket, info.domain)  # type: ignore[attr-defined]
        if kind in ("bind", "token", "cert"):
            token = client.create_cname_token(bucket, rest[0])  # type: ignore[attr-defined]
            publish = getattr(server, "publish_txt", None)  # the real server's DNS hook
            if publish is not None:
                publish(f"_dnsauth.{rest[0]}", token.token)
        if kind == "cname_host":  # FakeOss: requests with this Host go to bucket
            server.cname_hosts[rest[0].format(**placeholders(server))] = bucket  # type: ignore
        if kind == "website":
            client.put_bucket_website(bucket, WEBSITE_XML)  # type: ignore[attr-defined]
        if kind == "cors":
            client.put_bucket_cors(bucket, CORS_XML)  # type: ignore[attr-defined]
        if kind == "referer":
            client.put_bucket_referer(bucket, REFERER_XML)  # type: ignore[attr-defined]
        if kind in ("bind", "cert"):
            from ossutil.wire.cname_xml import CertificateConfiguration, CnameConfiguration

            client.put_cname(bucket, CnameConfiguration(rest[0]))  # type: ignore[attr-defined]
            if kind == "cert":
                cert_pem, key_pem = certificate_pair()
                client.put_cname(bucket, CnameConfiguration(  # type: ignore[attr-defined]
                    rest[0], CertificateConfiguration(certificate=cert_pem, private_key=key_pem,
                                                      force=True)))


B, D = BUCKET, DOMAIN
HAS_BUCKET = (("bucket", B),)
HAS_TOKEN = (("token", B, D),)
HAS_BINDING = (("bind", B, D),)
OK_XML = [("Content-Type", "application/xml"), ("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")]
RID = [("x-oss-request-id", "5C1B138A109F4E405B2D8AEF")]

# ``sign`` cases: fixed credentials and a loopback endpoint nothing listens on (sign sends
# nothing), so the signatures in the golden files are stable.
SIGN_CREDENTIALS = "-e http://127.0.0.1:9 -i LTAI5tSignTest -k signsecret -c none.cfg"
SIGN_CONFIG = (b"[Credentials]\nendpoint=http://127.0.0.1:9\naccessKeyID=LTAI5tSignTest\n"
               b"accessKeySecret=signsecret\n[Bucket-Cname]\nbucket=static.example.com\n")


def sign_credentials(argv: str) -> str:
    """``SIGN_CREDENTIALS``, without its ``-e`` when the case names its own endpoint."""
    return SIGN_CREDENTIALS.split(" ", 2)[2] if " -e " in f" {argv}" else SIGN_CREDENTIALS


SIGN_URL_CASES = {
    "sign": "oss://bucket/key",
    "sign_key_escaping": "'oss://bucket/dir/a b+c é~!*()?#&=;,:@$.txt' --timeout 300",
    "sign_double_slash_and_percent": "oss://bucket//a%2Fb%20",
    "sign_disable_encode_slash": "'oss://bucket/dir/sub dir/a%2Fb' --disable-encode-slash",
    "sign_options": "oss://bucket/k --version-id 'V 1/+' --trafic-limit 8388608 "
                    "--payer requester --query-param x-oss-process:image/resize,w_100 "
                    "--query-param 'a:b c' --query-param x:1 --query-param x:2 "
                    "--query-param bare --query-param empty: --query-param Signature:forged "
                    "-t STS.token/+=",
    "sign_go_only_subresource": "oss://bucket/k --query-param img:1 --query-param accessPoint:2",
    "sign_timeout_zero": "oss://bucket/k --timeout 0 --trafic-limit 0",
    "sign_timeout_overflow": "oss://bucket/k --timeout 9223372036854775807",
    "sign_encoding_url": "oss://bucket/a+b%2Fc%41%e4%b8%ad --encoding-type url",
    "sign_encoding_upper_is_not_url": "oss://bucket/a%20b --encoding-type URL",
    "sign_scheme_upper": "OSS://bucket/k",
    "sign_v4": "'oss://bucket/dir/a b/é+~' --sign-version v4 --region cn-hangzhou "
               "--version-id v1 --trafic-limit 100 --payer requester --query-param "
               "x-oss-process:image/resize,w_100 --query-param 'a:b c' -t STS.token --timeout 600",
    "sign_v4_disable_encode_slash": "oss://bucket/dir/k --sign-version v4 --region cn-hangzhou "
                                    "--disable-encode-slash",
    "sign_v4_cloudbox": "oss://bucket/k --sign-version v4 --region cn-hangzhou "
                        "--cloudbox-id cb-123",
    "sign_v2": "'oss://bucket/a b/é' --sign-version v2 --version-id 'V 1' --query-param 'a:b c' "
               "-t STS.token",
    "sign_virtual_host": "oss://bucket/k -e https://oss-cn-hangzhou.aliyuncs.com",
    "sign_force_path_style": "oss://bucket/k -e oss.example.com:8080 --force-path-style",
    "sign_localhost_is_virtual_host": "oss://bucket/k -e localhost:8080",
    "sign_ipv6": "oss://bucket/k -e 'http://[::1]:9'",
}

CASES: list[Case] = [
    # --- the six usages, success -----------------------------------------------------------
    Case("token_put", f"bucket-cname --method put --item token oss://{B} {D} {{C}}",
         setup=HAS_BUCKET),
    Case("token_put_file_new", f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET),
    Case("token_put_file_yes", f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b"y\n"),
    Case("token_put_file_YES", f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b"  YES \n"),
    Case("token_put_file_no", f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b"n\n"),
    Case("token_put_file_empty_answer",
         f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b"\n"),
    Case("token_put_file_eof", f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b""),
    Case("token_put_file_two_words",
         f"bucket-cname --method put --item token oss://{B} {D} t.xml {{C}}",
         setup=HAS_BUCKET, files={"t.xml": b"old"}, stdin=b"y y\n"),
    Case("token_put_file_dir_yes",
         f"bucket-cname --method put --item token oss://{B} {D} adir {{C}}",
         setup=HAS_BUCKET, files={"adir": None}, stdin=b"y\n"),
    Case("token_put_file_no_parent",
         f"bucket-cname --method put --item token oss://{B} {D} nodir/t.xml {{C}}",
         setup=HAS_BUCKET),
    Case("token_get", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         setup=HAS_TOKEN),
    Case("token_get_file", f"bucket-cname --method get --item token oss://{B} {D} g.xml {{C}}",
         setup=HAS_TOKEN),
    Case("token_get_not_found", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         setup=HAS_BUCKET),
    Case("token_odd_domain",
         f"bucket-cname --method put --item token oss://{B} 'A b+c&d=e/é.com' {{C}}",
         setup=HAS_BUCKET),
    Case("token_get_odd_domain",
         f"bucket-cname --method get --item token oss://{B} 'A b+c&d=e/é.com' {{C}}",
         setup=HAS_BUCKET),
    Case("bind", f"bucket-cname --method put oss://{B} {D} {{C}}", setup=HAS_TOKEN),
    Case("bind_unverified", f"bucket-cname --method put oss://{B} other.example.com {{C}}",
         setup=HAS_BUCKET),
    Case("bind_extra_args_ignored", f"bucket-cname --method put oss://{B} {D} extra {{C}}",
         setup=HAS_TOKEN),
    Case("cert_attach", f"bucket-cname --method put --item certificate oss://{B} cert.xml {{C}}",
         setup=HAS_BINDING, files={"cert.xml": CERT_XML}),
    Case("cert_attach_bom", f"bucket-cname --method put --item certificate oss://{B} c.xml {{C}}",
         setup=HAS_BINDING, files={"c.xml": BOM_CERT_XML}),
    Case("cert_unknown_cas_id", f"bucket-cname --method put --item certificate oss://{B} i.xml "
         "{C}", setup=HAS_BINDING, files={"i.xml": CASID_XML}),
    Case("cert_detach", f"bucket-cname --method put --item certificate oss://{B} d.xml {{C}}",
         setup=(("cert", B, D),), files={"d.xml": DETACH_XML}),
    Case("cert_plain_text_sent_as_is",
         f"bucket-cname --method put --item certificate oss://{B} p.txt {{C}}",
         setup=HAS_BINDING, files={"p.txt": b"not xml at all\n"}),
    Case("list_empty", f"bucket-cname --method get oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("list_bound", f"bucket-cname --method get oss://{B} {{C}}",
         setup=(("cert", B, D),)),
    Case("list_file_new", f"bucket-cname --method get oss://{B} out.xml {{C}}",
         setup=HAS_BINDING),
    Case("list_file_yes", f"bucket-cname --method get oss://{B} out.xml {{C}}",
         setup=HAS_BINDING, files={"out.xml": b"old"}, stdin=b"yes\n"),
    Case("list_file_no", f"bucket-cname --method get oss://{B} out.xml {{C}}",
         setup=HAS_BINDING, files={"out.xml": b"old"}, stdin=b"N\n"),
    Case("list_method_upper", f"bucket-cname --method GET oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("list_interleaved", f"bucket-cname oss://{B} --meth get {{C}} --method=Get",
         setup=HAS_BUCKET),
    Case("list_object_part_ignored", f"bucket-cname --method get OSS://{B}/a/b {{C}}",
         setup=HAS_BUCKET),
    Case("list_v4", f"bucket-cname --method get oss://{B} {{C}} --sign-version v4 "
         "--region {region}", setup=HAS_BUCKET),
    Case("list_v2", f"bucket-cname --method get oss://{B} {{C}} --sign-version v2",
         setup=HAS_BUCKET, diff=False, reason="V2 signing is best effort; servers reject it"),
    Case("list_sts_token", f"bucket-cname --method get oss://{B} {{C}} -t token123",
         setup=HAS_BUCKET),
    Case("list_path_style_localhost",
         f"bucket-cname --method get oss://{B} -e http://localhost:{{port}} -i {{id}} "
         "-k {secret} -c none.cfg --force-path-style", setup=HAS_BUCKET),
    Case("list_double_dash", f"bucket-cname --method get {{C}} -- oss://{B}", setup=HAS_BUCKET),
    Case("list_endpoint_with_path", f"bucket-cname --method get oss://{B} -e {{hostport}}/x/y "
         "-i {id} -k {secret} -c none.cfg", setup=HAS_BUCKET),
    Case("list_trailing_slash", f"bucket-cname --method get oss://{B}/ {{C}}", setup=HAS_BUCKET),
    Case("list_via_proxy_virtual_hosted",
         f"bucket-cname --method get oss://{B} -e oss-cn-hangzhou.aliyuncs.com -i {{id}} "
         "-k {secret} -c none.cfg --proxy-host http://{hostport}", setup=HAS_BUCKET,
         fake_only=True),
    Case("list_via_proxy_with_auth",
         f"bucket-cname --method get oss://{B} {{C}} --proxy-host http://{{hostport}} "
         "--proxy-user u --proxy-pwd p", setup=HAS_BUCKET, fake_only=True),
    Case("proxy_without_scheme", f"bucket-cname --method get oss://{B} {{C}} "
         "--proxy-host 127.0.0.1:1"),
    Case("list_bucket_cname_host", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=(("bucket", B), ("cname_host", B, "localhost:{port}")), fake_only=True,
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n[Bucket-Cname]\n" + B.encode()
                + b"=localhost:{port}\n"}),
    Case("list_https_against_http", f"bucket-cname --method get oss://{B} -e https://{{hostport}} "
         "-i {id} -k {secret} -c none.cfg", setup=HAS_BUCKET),
    Case("list_loglevel_info", f"bucket-cname --method get oss://{B} {{C}} --loglevel info",
         setup=HAS_BUCKET),
    Case("token_empty_domain", f"bucket-cname --method put --item token oss://{B} '' {{C}}",
         setup=HAS_BUCKET),
    Case("script_redirect_followed", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(302, b"", RID + [("Location", f"/{B}/?cname")]),
                 (200, b"<ListCnameResult/>\n", RID)]),
    Case("script_read_timeout", f"bucket-cname --method get oss://{B} {{C}} --read-timeout 1",
         script=[(200, b"late", RID)], reason="stalls 1.5 s"),
    Case("delete", f"bucket-cname --method delete oss://{B} {D} {{C}}", setup=HAS_BINDING),
    Case("delete_unbound", f"bucket-cname --method delete oss://{B} nobody.example.com {{C}}",
         setup=HAS_BUCKET),
    # --- argument and option errors (§2, §3) -------------------------------------------------
    Case("no_args", "bucket-cname {C}"),
    Case("too_many_args", f"bucket-cname --method get oss://{B} a b c {{C}}"),
    Case("method_missing", f"bucket-cname oss://{B} {{C}}"),
    Case("method_empty", f"bucket-cname --method= oss://{B} {{C}}"),
    Case("method_bad", f"bucket-cname --method putt oss://{B} {D} {{C}}"),
    Case("item_bad", f"bucket-cname --method put --item tokenn oss://{B} {D} {{C}}"),
    Case("item_upper", f"bucket-cname --method put --item TOKEN oss://{B} {D} {{C}}"),
    Case("token_delete", f"bucket-cname --method delete --item token oss://{B} {D} {{C}}"),
    Case("cert_get", f"bucket-cname --method get --item certificate oss://{B} {{C}}"),
    Case("url_not_cloud", "bucket-cname --method get bucket {C}"),
    Case("url_slash", "bucket-cname --method get /bucket {C}"),
    Case("url_http", "bucket-cname --method get http://bucket {C}"),
    Case("url_empty_bucket", "bucket-cname --method get oss:// {C}"),
    Case("url_miss_bucket", "bucket-cname --method get oss:///x {C}"),
    Case("bucket_short", "bucket-cname --method get oss://b {C}"),
    Case("bucket_upper", "bucket-cname --method get oss://Bucket {C}"),
    Case("bucket_dash", "bucket-cname --method get oss://bucket- {C}"),
    Case("cname_empty_put", f"bucket-cname --method put oss://{B} {{C}}"),
    Case("cname_empty_token", f"bucket-cname --method get --item token oss://{B} {{C}}"),
    Case("cname_empty_delete", f"bucket-cname --method delete oss://{B} {{C}}"),
    Case("cert_missing_arg", f"bucket-cname --method put --item certificate oss://{B} {{C}}"),
    Case("cert_file_missing", f"bucket-cname --method put --item certificate oss://{B} no.xml "
         "{C}"),
    Case("cert_file_dir", f"bucket-cname --method put --item certificate oss://{B} cdir {{C}}",
         files={"cdir": None}),
    Case("cert_file_empty", f"bucket-cname --method put --item certificate oss://{B} e.xml {{C}}",
         files={"e.xml": b""}),
    Case("unsupported_retry", f"bucket-cname --method get oss://{B} --retry-times 3 {{C}}"),
    Case("unsupported_force", f"bucket-cname --method get oss://{B} -f {{C}}"),
    Case("unsupported_language", f"bucket-cname --method get oss://{B} -L EN {{C}}"),
    Case("unsupported_empty_is_fine", f"bucket-cname --method get oss://{B} --acl= {{C}}",
         setup=HAS_BUCKET),
    Case("bad_flag", f"bucket-cname --method get oss://{B} --nosuch {{C}}", diff=False,
         reason="goopt usage: Go map order and our own option help"),
    Case("bad_short_flag", f"bucket-cname --method get oss://{B} -x {{C}}", diff=False,
         reason="goopt usage: Go map order and our own option help"),
    Case("ambiguous_prefix", f"bucket-cname --method get oss://{B} --vers {{C}}", diff=False,
         reason="goopt usage: Go map order and our own option help"),
    Case("flag_requires_argument", f"bucket-cname oss://{B} {{C}} --method"),
    Case("flag_requires_argument_short", f"bucket-cname oss://{B} --method get -e"),
    Case("flag_value_looks_like_flag", f"bucket-cname oss://{B} --method -x {{C}}"),
    Case("flag_empty_word", f"bucket-cname oss://{B} --method get -e '' -i a -k b"),
    Case("flag_no_argument_wanted", f"bucket-cname oss://{B} --force-path-style=true {{C}}"),
    Case("lone_dash_value", f"bucket-cname oss://{B} --method - {{C}}"),
    Case("int_not_int64", f"bucket-cname --method get oss://{B} --connect-timeout abc {{C}}"),
    Case("int_too_small", f"bucket-cname --method get oss://{B} --retry-times 0 {{C}}"),
    Case("int_too_big", f"bucket-cname --method get oss://{B} --jobs 10001 {{C}}"),
    Case("language_invalid", f"bucket-cname --method get oss://{B} -L xx {{C}}"),
    Case("loglevel_invalid", f"bucket-cname --method get oss://{B} --loglevel warn {{C}}"),
    Case("unknown_command", "nosuch {C}"),
    # --- config file (§7) --------------------------------------------------------------------
    Case("config_missing", f"bucket-cname --method get oss://{B} -c missing.cfg"),
    Case("config_no_credentials", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[credentials]\nendpoint=x\n"}),
    Case("config_is_dir", f"bucket-cname --method get oss://{B} -c cfgdir",
         files={"cfgdir": None}),
    Case("config_bad_int", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=x\n[Default]\nconnect-timeout=x\n"}),
    Case("config_bad_language", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=x\nlanguage=xx\n"}),
    Case("config_bad_loglevel", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=x\nloglevel=warn\n"}),
    Case("config_used", f"bucket-cname --method get oss://{B} -c c.cfg", setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\r\nendpoint = {endpoint}\r\nAccess_Key_ID={id}\r\n"
                b"access-key = {secret}\r\n# a comment\r\n"}),
    Case("config_v4_keys", f"bucket-cname --method get oss://{B} -c c.cfg", setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\nsignVersion=v4\nregion={region}\n"}),
    Case("config_v4_no_region", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=x\naccessKeyID=a\naccessKeySecret=b\n"
                b"signVersion=v4\n"}),
    Case("config_cli_wins", f"bucket-cname --method get oss://{B} -c c.cfg -e {{endpoint}}",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n"}),
    Case("config_bucket_endpoint", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n[Bucket-Endpoint]\n" + B.encode()
                + b"={endpoint}\n"}),
    Case("config_bucket_cname", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n[Bucket-Cname]\n" + B.encode()
                + b"=127.0.0.1:1\n"}),
    Case("config_repeated_section", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n[Credentials]\nendpoint=127.0.0.1:1\n"}),
    Case("config_repeated_key_last_wins", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\nendpoint={endpoint}\n"}),
    Case("config_indented_section", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"  [Credentials]\nendpoint=x\n"}),
    Case("config_trailing_comment", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1 # local\naccessKeyID=a\n"
                b"accessKeySecret=b\n"}),
    Case("config_colon_and_equals", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"before=ignored\n[Credentials]\n\tendpoint\t: {endpoint}\n"
                b"ACCESSKEYID = {id}\naccessKeySecret={secret}\nsomething\n"}),
    Case("config_secret_with_equals", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret=sec=ret\n"}),
    Case("config_proxy_in_default", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\n[Default]\nproxy-host=http://127.0.0.1:1\n"}),
    Case("config_flag_key_ignored", f"bucket-cname --method get oss://{B} -c c.cfg",
         setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\nforcePathStyle=true\nskipVerifyCert=true\n"}),
    Case("config_loglevel_default_section", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=x\n[Default]\nlog-level=warn\n"}),
    Case("config_ak_service_only", f"bucket-cname --method get oss://{B} -c c.cfg",
         files={"c.cfg": b"[Credentials]\nendpoint=127.0.0.1:1\n[AkService]\n"
                b"ecsAk=http://127.0.0.1:1/creds\n"}),
    Case("config_method_from_file", f"bucket-cname oss://{B} -c c.cfg", setup=HAS_BUCKET,
         files={"c.cfg": b"[Credentials]\nendpoint={endpoint}\naccessKeyID={id}\n"
                b"accessKeySecret={secret}\nmethod=get\n"}),
    Case("config_missing_tolerated_with_e", f"bucket-cname --method get oss://{B} "
         "-e {endpoint} -c missing.cfg"),
    # --- client construction (§8, §9) --------------------------------------------------------
    Case("v4_no_region", f"bucket-cname --method get oss://{B} {{C}} --sign-version v4"),
    Case("v4_upper", f"bucket-cname --method get oss://{B} {{C}} --sign-version V4 --region x"),
    Case("auth_version_bad", f"bucket-cname --method get oss://{B} {{C}} --sign-version v3"),
    Case("no_access_key_id", f"bucket-cname --method get oss://{B} -e {{endpoint}} -k x "
         "-c none.cfg"),
    Case("no_secret", f"bucket-cname --method get oss://{B} -e {{endpoint}} -i x -c none.cfg"),
    Case("endpoint_empty", f"bucket-cname --method get oss://{B} --endpoint= -i a -k b "
         "-c none.cfg"),
    Case("endpoint_blank", f"bucket-cname --method get oss://{B} '--endpoint= ' -i a -k b "
         "-c none.cfg"),
    Case("endpoint_parse_error", f"bucket-cname --method get oss://{B} -e 'a b' -i a -k b "
         "-c none.cfg"),
    Case("endpoint_bad_port", f"bucket-cname --method get oss://{B} -e 127.0.0.1:abc -i a -k b "
         "-c none.cfg"),
    Case("mode_sts_without_token", f"bucket-cname --method get oss://{B} {{C}} --mode StsToken"),
    Case("mode_ram_role_without_arn", f"bucket-cname --method get oss://{B} {{C}} "
         "--mode ramrolearn"),
    Case("mode_ecs_without_url", f"bucket-cname --method get oss://{B} {{C}} --mode EcsRamRole"),
    Case("password_not_a_tty", f"bucket-cname --method get oss://{B} {{C}} -p"),
    # --- network and service errors (§6) -----------------------------------------------------
    Case("unreachable", f"bucket-cname --method put oss://{B} {D} -e 127.0.0.1:1 -i a -k b "
         "-c none.cfg"),
    Case("no_such_bucket", "bucket-cname --method get oss://cli-nosuch {C}"),
    Case("access_denied", f"bucket-cname --method get oss://{B} -e {{endpoint}} "
         "-i {denied_id} -k {denied_secret} -c none.cfg", setup=HAS_BUCKET),
    Case("signature_mismatch", f"bucket-cname --method get oss://{B} -e {{endpoint}} -i {{id}} "
         "-k wrong-secret -c none.cfg", setup=HAS_BUCKET),
    Case("unknown_key", f"bucket-cname --method get oss://{B} -e {{endpoint}} "
         "-i LTAI5tUnknownKey000000 -k x -c none.cfg", setup=HAS_BUCKET),
    # scripted replies (FakeOss only)
    Case("script_error_endpoint_ec", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(403, b"<?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code><Message>"
                  b"no</Message><RequestId>IGNORED</RequestId><Endpoint>oss.example.com"
                  b"</Endpoint><EC>0003-00000201</EC></Error>", RID)]),
    Case("script_error_no_request_id", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(404, b"<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>", [])]),
    Case("script_error_empty_body", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(404, b"", RID + [("x-oss-ec", "0015-00000101")])]),
    Case("script_error_x_oss_err", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(403, b"", RID + [("x-oss-err", "PEVycm9yPjxDb2RlPkFjY2Vzc0RlbmllZDwvQ29kZT48"
                                                 "TWVzc2FnZT5oZWFkPC9NZXNzYWdlPjwvRXJyb3I+")])]),
    Case("script_error_invalid_body", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(502, b"<html>bad gateway</html>", RID + [("x-oss-ec", "0001-00000001")])]),
    Case("script_error_truncated_xml", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(500, b"<Error><Code>InternalError</Code>", RID)]),
    Case("script_error_500", f"bucket-cname --method put oss://{B} {D} {{C}}",
         script=[(500, b"<Error><Code>InternalError</Code><Message>We encountered an internal "
                  b"error.</Message></Error>", RID)]),
    Case("script_put_204", f"bucket-cname --method put oss://{B} {D} {{C}}",
         script=[(204, b"", RID)]),
    Case("script_delete_201", f"bucket-cname --method delete oss://{B} {D} {{C}}",
         script=[(201, b"", RID)]),
    Case("script_list_203_any_body", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(203, b"not xml", RID)]),
    Case("script_list_empty_body", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(200, b"", RID)]),
    Case("script_302_no_location", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(302, b"", RID)]),
    Case("script_status_600", f"bucket-cname --method get oss://{B} {{C}}",
         script=[(600, b"oops", RID)]),
    Case("script_token_wrong_root", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<?xml version=\"1.0\"?>\n<Token><Bucket>b</Bucket></Token>", OK_XML)]),
    Case("script_token_empty_body", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"", OK_XML)]),
    Case("script_token_truncated", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<CnameToken>\n  <Bucket>b</Bucket>\n", OK_XML)]),
    Case("script_token_mismatched", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<CnameToken>\n<Bucket>b</Token>\n</CnameToken>", OK_XML)]),
    Case("script_token_odd_fields", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ns:CnameToken xmlns:ns="
                  b"\"urn:x\"><Extra>1</Extra><ExpireTime>soon</ExpireTime><Token>a&amp;b&lt;"
                  b"\"'\t</Token><Bucket></Bucket><Cname><![CDATA[x<y]]></Cname>"
                  b"<Cname>second</Cname></ns:CnameToken>trailing junk <", OK_XML)]),
    Case("script_token_all_empty", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<CnameToken><Bucket/></CnameToken>", OK_XML)]),
    Case("script_token_entity", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, b"<CnameToken><Bucket>&nbsp;</Bucket></CnameToken>", OK_XML)]),
    Case("script_token_gzip", f"bucket-cname --method get --item token oss://{B} {D} {{C}}",
         script=[(200, gzip.compress(b"<CnameToken><Bucket>gz</Bucket></CnameToken>", mtime=0),
                  OK_XML + [("Content-Encoding", "gzip")])]),
    # --- help and version (§12) --------------------------------------------------------------
    Case("version", "-v"),
    Case("version_long", "--version"),
    Case("no_command", "", diff=False, reason="whole-tool help: our own prose"),
    Case("help_whole", "help", diff=False, reason="whole-tool help: our own prose"),
    Case("help_bucket_cname", "help bucket-cname", diff=False, reason="our own help prose"),
    Case("help_bucket_cname_ch", "help bucket-cname -L ch", diff=False,
         reason="our own help prose"),
    Case("help_unknown", "help nosuch"),
    Case("help_too_many", "help a b"),
    Case("help_bad_option", "help bucket-cname --method get"),
    Case("goopt_help", "--help", diff=False, reason="goopt usage: Go map order, our prose"),
    Case("goopt_help_in_command", "bucket-cname --help", diff=False,
         reason="goopt usage: Go map order, our prose"),
    Case("help_mb", "help mb", diff=False, reason="our own help prose"),
    Case("help_ls", "help ls", diff=False, reason="our own help prose"),
    Case("help_config", "help config", diff=False, reason="our own help prose"),
    # --- mb and ls ---------------------------------------------------------------------------
    Case("mb", "mb oss://cli-newbucket {C}"),
    Case("mb_exists", f"mb oss://{B} {{C}}", setup=HAS_BUCKET, diff=False,
         reason="ossutil retries 10 times; same output, 10x the requests"),
    Case("mb_acl", "mb oss://cli-newbucket --acl public-read --storage-class ia {C}"),
    Case("mb_acl_asked", "mb oss://cli-newbucket --acl bad {C}", stdin=b"private\n"),
    Case("mb_acl_asked_bad", "mb oss://cli-newbucket --acl bad {C}", stdin=b"\n"),
    Case("mb_short_name", "mb oss://b {C}"),
    Case("mb_object", "mb oss://cli-newbucket/obj {C}"),
    Case("mb_not_cloud", "mb bucket {C}"),
    Case("mb_unreachable", "mb oss://cli-newbucket -e 127.0.0.1:1 -i a -k b -c none.cfg"),
    Case("ls", "ls {C}", setup=(("bucket", B), ("bucket", "cli-second"))),
    Case("ls_short", "ls -s {C}", setup=(("bucket", B), ("bucket", "cli-second"))),
    Case("ls_oss_prefix", "ls oss:// {C}", setup=HAS_BUCKET),
    Case("ls_directory", "ls -d {C}"),
    Case("ls_unsupported", "ls --method get {C}"),
    # --- sign (presigned URLs; no request is sent, so a dead loopback endpoint) ---------------
    # The URL cases depend on the clock: the golden run freezes it (SIGN_MOMENT), the
    # differential test replays the Go binary's own moment (test_differential.test_sign_*).
    *[Case(name, f"sign {argv} {sign_credentials(argv)}", diff=False,
           reason="time-dependent URL: test_sign_urls_match_go replays Go's moment")
      for name, argv in SIGN_URL_CASES.items()],
    Case("sign_bucket_cname_config", "sign oss://bucket/k -c c.cfg", diff=False,
         reason="time-dependent URL: test_sign_urls_match_go replays Go's moment",
         files={"c.cfg": SIGN_CONFIG}),
    Case("sign_miss_object", f"sign oss://bucket {SIGN_CREDENTIALS}"),
    Case("sign_miss_object_slash", f"sign oss://BAD/ {SIGN_CREDENTIALS}"),
    Case("sign_miss_bucket", f"sign oss:///k {SIGN_CREDENTIALS}"),
    Case("sign_not_cloud_url", f"sign bucket/k {SIGN_CREDENTIALS}"),
    Case("sign_not_cloud_url_bad_escape", f"sign bucket/%zz --encoding-type url "
         f"{SIGN_CREDENTIALS}"),
    Case("sign_bad_escape", f"sign oss://bucket/a%z --encoding-type url {SIGN_CREDENTIALS}"),
    Case("sign_bad_payer", f"sign oss://bucket/k --payer Requester {SIGN_CREDENTIALS}"),
    Case("sign_negative_traffic_limit", f"sign oss://bucket/k --trafic-limit=-5 "
         f"{SIGN_CREDENTIALS}"),
    Case("sign_negative_timeout", f"sign oss://bucket/k --timeout=-5 {SIGN_CREDENTIALS}"),
    Case("sign_unsupported_option", f"sign oss://bucket/k --proxy-host http://127.0.0.1:1 "
         f"{SIGN_CREDENTIALS}"),
    Case("sign_v4_no_region", f"sign oss://bucket/k --sign-version v4 {SIGN_CREDENTIALS}"),
    Case("sign_bad_version", f"sign oss://bucket/k --sign-version V4 --region r "
         f"{SIGN_CREDENTIALS}"),
    Case("sign_bad_bucket", f"sign oss://BAD/k {SIGN_CREDENTIALS}"),
    Case("sign_no_secret", "sign oss://BAD/k -e http://127.0.0.1:9 -i LTAI5tSignTest "
         "-c none.cfg"),
    Case("sign_no_args", f"sign {SIGN_CREDENTIALS}"),
    Case("sign_too_many", f"sign oss://bucket/a oss://bucket/b {SIGN_CREDENTIALS}"),
    Case("help_sign", "help sign", diff=False, reason="our own help prose"),
    # --- config command (§7.5) ---------------------------------------------------------------
    Case("config_write", "config -e http://127.0.0.1:9000 -i myid -k mysecret -c out.cfg",
         env={"LANG": "C"}),
    Case("config_bad_arg", "config extra -c out.cfg"),
    Case("config_bad_option", "config --method get -c out.cfg"),
]

BY_NAME = {case.name: case for case in CASES}

# --- website, cors, referer, cors-options (issue 12) --------------------------------------------
# Argument and file errors need no server; scripted replies (FakeOss) pin the output of odd but
# possible answers; the rest run against the real server (website/CORS/Referer implemented).

WEBSITE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<WebsiteConfiguration>
  <IndexDocument>
    <Suffix>index.html</Suffix>
    <SupportSubDir>true</SupportSubDir>
    <Type>0</Type>
  </IndexDocument>
  <ErrorDocument>
    <Key>error.html</Key>
    <HttpStatus>404</HttpStatus>
  </ErrorDocument>
</WebsiteConfiguration>
"""
CORS_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>https://www.example.com</AllowedOrigin>
    <AllowedOrigin>https://*.example.org</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>x-oss-meta-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-oss-request-id</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
    <Unknown>dropped by ossutil</Unknown>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>HEAD</AllowedMethod>
  </CORSRule>
  <ResponseVary>true</ResponseVary>
</CORSConfiguration>
"""
# what a reply may hold that ossutil re-spells: namespace, comment, CDATA, odd order, " 1 "
ODD_CORS_REPLY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->'
                  b'<CORSConfiguration xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">'
                  b"<ResponseVary> 1 </ResponseVary><CORSRule><MaxAgeSeconds>5</MaxAgeSeconds>"
                  b"<ExposeHeader>e&amp;&quot;</ExposeHeader><AllowedHeader>h1</AllowedHeader>"
                  b"<AllowedHeader>h2</AllowedHeader><AllowedOrigin><![CDATA[<o>]]>"
                  b"</AllowedOrigin><MaxAgeSeconds>+007</MaxAgeSeconds></CORSRule>"
                  b"<CORSRule/></CORSConfiguration>")
ODD_REFERER_REPLY = (b"<RefererConfiguration><AllowEmptyReferer> True </AllowEmptyReferer>"
                     b"<AllowTruncateQueryString>true</AllowTruncateQueryString>"
                     b"<TruncatePath>true</TruncatePath><RefererList><Referer>a&amp;b\t'c'"
                     b"</Referer></RefererList><RefererList><Referer>https://*.x?.com"
                     b"</Referer></RefererList><RefererBlacklist/></RefererConfiguration>")
NO_WEBSITE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>'
              b"NoSuchWebsiteConfiguration</Code>\n  <Message>The specified bucket does not "
              b"have a website configuration.</Message>\n  <RequestId>5C1B138A109F4E405B2D8AEF"
              b"</RequestId>\n  <HostId>cli-golden.oss-cn-hangzhou.aliyuncs.com</HostId>\n"
              b"  <BucketName>cli-golden</BucketName>\n  <EC>0020-00000101</EC>\n</Error>\n")
NO_CORS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>NoSuchCORSConfiguration'
           b"</Code>\n  <Message>The CORS configuration does not exist.</Message>\n"
           b"  <RequestId>5C1B138A109F4E405B2D8AEF</RequestId>\n  <HostId>cli-golden.oss-cn-"
           b"hangzhou.aliyuncs.com</HostId>\n  <BucketName>cli-golden</BucketName>\n"
           b"  <EC>0020-00000201</EC>\n</Error>\n")
PREFLIGHT_REFUSED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>AccessForbidden'
                     b"</Code>\n  <Message>CORSResponse: This CORS request is not allowed. "
                     b"</Message>\n  <RequestId>5C1B138A109F4E405B2D8AEF</RequestId>\n"
                     b"  <HostId>cli-golden.oss-cn-hangzhou.aliyuncs.com</HostId>\n"
                     b"  <EC>0003-00000001</EC>\n</Error>\n")
PREFLIGHT_HEADERS = RID + [
    ("access-control-allow-origin", "https://www.example.com"),
    ("Access-Control-Allow-Methods", "GET, PUT"),
    ("Access-Control-Allow-Headers", " x-oss-meta-a "),
    ("Access-Control-Expose-Headers", "ETag, x-oss-request-id"),
    ("Access-Control-Max-Age", "600"), ("Vary", "Origin"),
    ("Vary", "Access-Control-Request-Method"), ("x-oss-server-time", "3"),
    ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("x-oss-ec", "0000-00000000")]
REFERER_XML = (b"<RefererConfiguration><AllowEmptyReferer>false</AllowEmptyReferer>"
               b"<AllowTruncateQueryString>true</AllowTruncateQueryString>"
               b"<TruncatePath>true</TruncatePath><RefererList>"
               b"<Referer>https://www.example.com</Referer><Referer>https://*.example.org"
               b"</Referer></RefererList><RefererBlacklist><Referer>https://evil.example.net"
               b"</Referer></RefererBlacklist></RefererConfiguration>")
HAS_WEBSITE = (("bucket", B), ("website", B))
HAS_CORS = (("bucket", B), ("cors", B))
HAS_REFERER = (("bucket", B), ("referer", B))

BUCKET_CONFIG_CASES: list[Case] = [
    # --- website -----------------------------------------------------------------------------
    Case("website_no_args", "website {C}"),
    Case("website_method_missing", f"website oss://{B} {{C}}"),
    Case("website_method_empty", f"website --method= oss://{B} {{C}}"),
    Case("website_method_bad", f"website --method list oss://{B} {{C}}"),
    Case("website_too_many_args", f"website --method get oss://{B} a.xml b.xml {{C}}"),
    Case("website_not_cloud_url", "website --method get bucket {C}"),
    Case("website_empty_bucket", "website --method get oss:// {C}"),
    Case("website_miss_bucket", "website --method get oss:///key {C}"),
    Case("website_bucket_short", "website --method get oss://b {C}"),
    Case("website_unsupported_option", f"website --method get oss://{B} -f {{C}}"),
    Case("website_put_missing_file", f"website --method put oss://{B} {{C}}"),
    Case("website_put_no_such_file", f"website --method put oss://{B} no.xml {{C}}"),
    Case("website_put_dir", f"website --method put oss://{B} wdir {{C}}", files={"wdir": None}),
    Case("website_put_empty_file", f"website --method put oss://{B} e.xml {{C}}",
         files={"e.xml": b""}),
    Case("website_put_no_credentials", f"website --method put oss://{B} w.xml -e {{endpoint}} "
         "-c none.cfg", files={"w.xml": WEBSITE_XML}),
    Case("website_put", f"website --method PUT oss://{B} w.xml {{C}}", setup=HAS_BUCKET,
         files={"w.xml": WEBSITE_XML}),
    Case("website_put_malformed", f"website --method put oss://{B} w.xml {{C}}",
         setup=HAS_BUCKET, files={"w.xml": b"not xml\n"}),
    Case("website_put_no_such_bucket", "website --method put oss://cli-nosuch w.xml {C}",
         files={"w.xml": WEBSITE_XML}),
    Case("website_get", f"website --method get oss://{B} {{C}}", setup=HAS_WEBSITE),
    Case("website_get_none", f"website --method get oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("website_get_file_new", f"website --method get oss://{B} out.xml {{C}}",
         setup=HAS_WEBSITE),
    Case("website_get_file_yes", f"website --method get oss://{B} out.xml {{C}}",
         setup=HAS_WEBSITE, files={"out.xml": b"old"}, stdin=b"y\n"),
    Case("website_get_file_no", f"website --method get oss://{B} out.xml {{C}}",
         setup=HAS_WEBSITE, files={"out.xml": b"old"}, stdin=b"no\n"),
    Case("website_delete", f"website --method delete oss://{B} {{C}}", setup=HAS_WEBSITE),
    Case("website_delete_none", f"website --method delete oss://{B} extra {{C}}",
         setup=HAS_BUCKET),
    Case("script_website_get_verbatim", f"website --method get oss://{B} {{C}}",
         script=[(200, b"<WebsiteConfiguration><Odd>&amp;</Odd></WebsiteConfiguration>",
                  OK_XML)]),
    Case("script_website_get_none", f"website --method get oss://{B} {{C}}",
         script=[(404, NO_WEBSITE, OK_XML)]),
    Case("script_website_delete_200", f"website --method delete oss://{B} {{C}}",
         script=[(200, b"", RID)]),
    Case("script_website_put_204", f"website --method put oss://{B} w.xml {{C}}",
         files={"w.xml": WEBSITE_XML}, script=[(204, b"", RID)]),
    # --- cors --------------------------------------------------------------------------------
    Case("cors_no_args", "cors {C}"),
    Case("cors_method_missing", f"cors oss://{B} {{C}}"),
    Case("cors_method_bad", f"cors --method post oss://{B} {{C}}"),
    Case("cors_too_many_args", f"cors --method get oss://{B} a.xml b.xml {{C}}"),
    Case("cors_not_cloud_url", "cors --method get bucket {C}"),
    Case("cors_empty_bucket", "cors --method get oss:// {C}"),
    Case("cors_bucket_short", "cors --method get oss://b {C}"),
    Case("cors_unsupported_option", f"cors --method get oss://{B} --acr-method GET {{C}}"),
    Case("cors_put_missing_file", f"cors --method put oss://{B} {{C}}"),
    Case("cors_put_no_such_file", f"cors --method put oss://{B} no.xml {{C}}"),
    Case("cors_put_dir", f"cors --method put oss://{B} cdir {{C}}", files={"cdir": None}),
    Case("cors_put_empty_file", f"cors --method put oss://{B} e.xml {{C}}",
         files={"e.xml": b""}),
    Case("cors_put_not_xml", f"cors --method put oss://{B} c.txt {{C}}",
         files={"c.txt": b"AllowedOrigin=*\n"}),
    Case("cors_put_wrong_root", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": WEBSITE_XML}),
    Case("cors_put_bad_max_age", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": b"<CORSConfiguration><CORSRule><MaxAgeSeconds>1.5</MaxAgeSeconds>"
                b"</CORSRule></CORSConfiguration>"}),
    Case("cors_put_max_age_overflow", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": b"<CORSConfiguration><CORSRule><MaxAgeSeconds>99999999999999999999"
                b"</MaxAgeSeconds></CORSRule></CORSConfiguration>"}),
    Case("cors_put_bad_response_vary", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": b"<CORSConfiguration><ResponseVary>yes</ResponseVary>"
                b"</CORSConfiguration>"}),
    Case("cors_put_truncated", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": b"<CORSConfiguration>\n<CORSRule>\n"}),
    Case("cors_put_bad_entity", f"cors --method put oss://{B} c.xml {{C}}",
         files={"c.xml": b"<CORSConfiguration><CORSRule><AllowedOrigin>&nbsp;</AllowedOrigin>"
                b"</CORSRule></CORSConfiguration>"}),
    Case("cors_put_no_credentials", f"cors --method put oss://{B} c.xml -e {{endpoint}} "
         "-c none.cfg", files={"c.xml": CORS_XML}),
    Case("cors_put", f"cors --method put oss://{B} c.xml {{C}}", setup=HAS_BUCKET,
         files={"c.xml": CORS_XML}),
    Case("cors_put_rule_without_method", f"cors --method put oss://{B} c.xml {{C}}",
         setup=HAS_BUCKET, files={"c.xml": b"<CORSConfiguration><CORSRule><AllowedOrigin>*"
                                  b"</AllowedOrigin></CORSRule></CORSConfiguration>"}),
    Case("cors_get", f"cors --method get oss://{B} {{C}}", setup=HAS_CORS),
    Case("cors_get_none", f"cors --method get oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("cors_get_no_such_bucket", "cors --method get oss://cli-nosuch {C}"),
    Case("cors_get_file_new", f"cors --method get oss://{B} out.xml {{C}}", setup=HAS_CORS),
    Case("cors_get_file_yes", f"cors --method get oss://{B} out.xml {{C}}", setup=HAS_CORS,
         files={"out.xml": b"old"}, stdin=b"YES\n"),
    Case("cors_get_file_no", f"cors --method get oss://{B} out.xml {{C}}", setup=HAS_CORS,
         files={"out.xml": b"old"}, stdin=b"\n"),
    Case("cors_delete", f"cors --method Delete oss://{B} {{C}}", setup=HAS_CORS),
    Case("cors_delete_none", f"cors --method delete oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("script_cors_get_odd", f"cors --method get oss://{B} {{C}}",
         script=[(200, ODD_CORS_REPLY, OK_XML)]),
    Case("script_cors_get_empty", f"cors --method get oss://{B} {{C}}",
         script=[(200, b"<CORSConfiguration/>", OK_XML)]),
    Case("script_cors_get_none", f"cors --method get oss://{B} {{C}}",
         script=[(404, NO_CORS, OK_XML)]),
    Case("script_cors_get_bad_bool", f"cors --method get oss://{B} {{C}}",
         script=[(200, b"<CORSConfiguration><ResponseVary>no</ResponseVary>"
                  b"</CORSConfiguration>", OK_XML)]),
    Case("script_cors_get_not_xml", f"cors --method get oss://{B} {{C}}",
         script=[(200, b"", OK_XML)]),
    Case("script_cors_delete_200", f"cors --method delete oss://{B} {{C}}",
         script=[(200, b"", RID)]),
    # --- referer -----------------------------------------------------------------------------
    Case("referer_no_args", "referer {C}"),
    Case("referer_method_missing", f"referer oss://{B} {{C}}"),
    Case("referer_method_bad", f"referer --method list oss://{B} {{C}}"),
    Case("referer_not_cloud_url", "referer --method get bucket {C}"),
    Case("referer_bucket_short", "referer --method put oss://b https://www.example.com {C}"),
    Case("referer_unsupported_option", f"referer --method get oss://{B} --origin o {{C}}"),
    Case("referer_put_missing", f"referer --method put oss://{B} {{C}}"),
    Case("referer_put_no_credentials", f"referer --method put oss://{B} r -e {{endpoint}} "
         "-c none.cfg"),
    Case("referer_put", f"referer --method put oss://{B} https://www.example.com "
         "'https://*.example.org' 'http://?.example.net/a&b' {C}", setup=HAS_BUCKET),
    Case("referer_put_disable_empty", f"referer --method put oss://{B} https://www.example.com "
         "--disable-empty-referer {C}", setup=HAS_BUCKET),
    Case("referer_get", f"referer --method get oss://{B} {{C}}", setup=HAS_REFERER),
    Case("referer_get_default", f"referer --method get oss://{B} {{C}}", setup=HAS_BUCKET),
    Case("referer_get_extra_args", f"referer --method get oss://{B} out.xml more {{C}}",
         setup=HAS_REFERER),
    Case("referer_get_file_no", f"referer --method get oss://{B} out.xml {{C}}",
         setup=HAS_REFERER, files={"out.xml": b"old"}, stdin=b"n\n"),
    Case("referer_get_no_such_bucket", "referer --method get oss://cli-nosuch {C}"),
    Case("referer_delete", f"referer --method delete oss://{B} {{C}}", setup=HAS_REFERER),
    Case("script_referer_get_odd", f"referer --method get oss://{B} {{C}}",
         script=[(200, ODD_REFERER_REPLY, OK_XML)]),
    Case("script_referer_get_bad_bool", f"referer --method get oss://{B} {{C}}",
         script=[(200, b"<RefererConfiguration><AllowEmptyReferer>yes</AllowEmptyReferer>"
                  b"</RefererConfiguration>", OK_XML)]),
    Case("script_referer_get_wrong_root", f"referer --method get oss://{B} {{C}}",
         script=[(200, b"<CORSConfiguration/>", OK_XML)]),
    Case("script_referer_put_204", f"referer --method put oss://{B} r {{C}}",
         script=[(204, b"", RID)]),
    # --- cors-options ------------------------------------------------------------------------
    Case("cors_options_no_args", "cors-options {C}"),
    Case("cors_options_too_many_args", f"cors-options oss://{B}/a oss://{B}/b {{C}}"),
    Case("cors_options_not_cloud_url", f"cors-options {B}/index.html {{C}}"),
    Case("cors_options_miss_bucket", "cors-options oss:///index.html {C}"),
    Case("cors_options_bucket_short", "cors-options oss://b/index.html {C}"),
    Case("cors_options_unsupported_option", f"cors-options oss://{B}/k --method get {{C}}"),
    Case("cors_options_bad_escape", f"cors-options oss://{B}/a%zz --encoding-type url {{C}}"),
    Case("cors_options_bad_escape_no_bucket", "cors-options oss:///a%zz --encoding-type url {C}"),
    Case("cors_options_encoded_bucket", "cors-options oss://a%20b/ --encoding-type url {C}"),
    Case("cors_options_encoded_file_name", "cors-options a%20b --encoding-type url {C}"),
    Case("cors_options_bad_file_name", "cors-options a%zz --encoding-type url {C}"),
    Case("cors_options_allowed", f"cors-options oss://{B}/index.html --origin "
         "https://www.example.com --acr-method get --acr-headers x-oss-meta-a {C}",
         setup=HAS_CORS),
    Case("cors_options_wildcard_origin", f"cors-options 'oss://{B}/dir/a b+é.txt' --origin "
         "https://cdn.example.org --acr-method PUT {C}", setup=HAS_CORS),
    Case("cors_options_encoded_key", f"cors-options oss://{B}/dir%2Fa%20b --encoding-type url "
         "--origin http://any.example --acr-method HEAD {C}", setup=HAS_CORS),
    Case("cors_options_refused_origin", f"cors-options oss://{B}/k --origin "
         "https://evil.example.net --acr-method GET {C}", setup=HAS_CORS),
    Case("cors_options_refused_header", f"cors-options oss://{B}/k --origin "
         "https://www.example.com --acr-method GET --acr-headers authorization {C}",
         setup=HAS_CORS),
    Case("cors_options_no_rules", f"cors-options oss://{B}/k --origin https://www.example.com "
         "--acr-method GET {C}", setup=HAS_BUCKET),
    Case("cors_options_bucket_only", f"cors-options oss://{B} --origin https://www.example.com "
         "--acr-method GET {C}", setup=HAS_CORS),
    Case("script_cors_options_headers", f"cors-options oss://{B}/k --origin "
         "https://www.example.com --acr-method GET {C}", script=[(200, b"", PREFLIGHT_HEADERS)]),
    Case("script_cors_options_refused", f"cors-options oss://{B}/k --origin o --acr-method GET "
         "{C}", script=[(403, PREFLIGHT_REFUSED, OK_XML)]),
    Case("script_cors_options_204", f"cors-options oss://{B}/k {{C}}", script=[(204, b"", RID)]),
    # --- signing and logging, as for bucket-cname ---------------------------------------------
    Case("website_get_v4", f"website --method get oss://{B} {{C}} --sign-version v4 "
         "--region {region}", setup=HAS_WEBSITE),
    Case("cors_put_v4", f"cors --method put oss://{B} c.xml {{C}} --sign-version v4 "
         "--region {region}", setup=HAS_BUCKET, files={"c.xml": CORS_XML}),
    Case("referer_put_v4_sts", f"referer --method put oss://{B} https://www.example.com {{C}} "
         "--sign-version v4 --region {region} -t token123", setup=HAS_BUCKET),
    Case("cors_options_v4", f"cors-options oss://{B}/index.html --origin https://www.example.com "
         "--acr-method GET {C} --sign-version v4 --region {region}", setup=HAS_CORS),
    Case("website_get_loglevel_info", f"website --method get oss://{B} {{C}} --loglevel info",
         setup=HAS_WEBSITE),
    Case("cors_get_wrong_secret", f"cors --method get oss://{B} -e {{endpoint}} -i {{id}} "
         "-k wrong-secret -c none.cfg", setup=HAS_CORS),
    # --- help (our own prose) ----------------------------------------------------------------
    Case("help_website", "help website", diff=False, reason="our own help prose"),
    Case("help_cors", "help cors", diff=False, reason="our own help prose"),
    Case("help_referer", "help referer", diff=False, reason="our own help prose"),
    Case("help_cors_options", "help cors-options", diff=False, reason="our own help prose"),
]
CASES.extend(BUCKET_CONFIG_CASES)
BY_NAME.update((case.name, case) for case in BUCKET_CONFIG_CASES)
