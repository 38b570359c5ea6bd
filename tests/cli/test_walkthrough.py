"""The README walkthrough with the CLI alone: config, mb, token, TXT, bind, list, certificate
attach, ``cp`` up and down, detach, unbind, then ls. Runs against ``oss_server`` (the real server
by default, which publishes the TXT record through its ``publish_txt`` hook and stores objects;
on the fake, which has no objects, the ``cp`` steps are left out)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.cases import certificate_pair
from tests.cli.clitools import run_ours

BUCKET, DOMAIN = "walkthrough-bucket", "www.example.com"


def test_readme_walkthrough(oss_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def ossutil(*argv: str, stdin: bytes = b"") -> str:
        outcome = run_ours(list(argv), stdin=stdin, cwd=tmp_path)
        assert outcome.code == 0, outcome.text
        return outcome.text

    if hasattr(oss_server, "reset"):
        oss_server.reset()
    ossutil("config", "-e", oss_server.endpoint, "-i", oss_server.access_key_id,
            "-k", oss_server.access_key_secret, "-c", "ossutil.cfg")
    cfg = ("-c", "ossutil.cfg")
    ossutil("mb", f"oss://{BUCKET}", *cfg)
    token_xml = ossutil("bucket-cname", "--method", "put", "--item", "token",
                        f"oss://{BUCKET}", DOMAIN, *cfg)
    token = token_xml.split("<Token>", 1)[1].split("</Token>", 1)[0]
    publish = getattr(oss_server, "publish_txt", None)
    if publish is not None:
        publish(f"_dnsauth.{DOMAIN}", token)
    assert ossutil("bucket-cname", "--method", "put", f"oss://{BUCKET}", DOMAIN,
                   *cfg).startswith("\n")
    assert f"<Domain>{DOMAIN}</Domain>" in ossutil("bucket-cname", "--method", "get",
                                                   f"oss://{BUCKET}", *cfg)
    cert_pem, key_pem = certificate_pair()
    (tmp_path / "attach.xml").write_text(
        f"<BucketCnameConfiguration><Cname><Domain>{DOMAIN}</Domain><CertificateConfiguration>"
        f"<Certificate>{cert_pem}</Certificate><PrivateKey>{key_pem}</PrivateKey>"
        "<Force>true</Force></CertificateConfiguration></Cname></BucketCnameConfiguration>")
    ossutil("bucket-cname", "--method", "put", "--item", "certificate", f"oss://{BUCKET}",
            "attach.xml", *cfg)
    assert "<Certificate>" in ossutil("bucket-cname", "--method", "get", f"oss://{BUCKET}", *cfg)
    if publish is not None:  # the real server: objects too
        (tmp_path / "hello.txt").write_text("hello through a custom domain\n")
        uploaded = ossutil("cp", "hello.txt", f"oss://{BUCKET}/", *cfg)
        assert re.fullmatch(r"\rSucceed: Total num: 1, size: 30\. OK num: 1\(upload 1 files\)\."
                            r"\n(\naverage speed \d+\(byte/s\)\n)?\n\d+\.\d{6}\(s\) elapsed\n",
                            uploaded), uploaded
        (tmp_path / "back").mkdir()
        assert "OK num: 1(download 1 objects)." in ossutil("cp", f"oss://{BUCKET}/hello.txt",
                                                            "back", *cfg)
        assert (tmp_path / "back" / "hello.txt").read_text() == "hello through a custom domain\n"
    (tmp_path / "detach.xml").write_text(
        f"<BucketCnameConfiguration><Cname><Domain>{DOMAIN}</Domain><CertificateConfiguration>"
        "<DeleteCertificate>true</DeleteCertificate></CertificateConfiguration></Cname>"
        "</BucketCnameConfiguration>")
    ossutil("bucket-cname", "--method", "put", "--item", "certificate", f"oss://{BUCKET}",
            "detach.xml", *cfg)
    assert "<Certificate>" not in ossutil("bucket-cname", "--method", "get", f"oss://{BUCKET}",
                                          *cfg)
    ossutil("bucket-cname", "--method", "delete", f"oss://{BUCKET}", DOMAIN, *cfg)
    assert f"<Domain>{DOMAIN}</Domain>" not in ossutil("bucket-cname", "--method", "get",
                                                       f"oss://{BUCKET}", *cfg)
    assert f"oss://{BUCKET}\n" in ossutil("ls", "-s", *cfg)
