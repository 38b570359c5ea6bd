"""``ossutil cp`` for one file, against the real server: output as ossutil 1.7.19 prints it
(checked byte for byte against the Go binary, see ``src/ossutil/cli/cp.py``), prompts, errors,
and bodies that stream instead of sitting in memory."""

from __future__ import annotations

import hashlib
import os
import re
import tracemalloc
from pathlib import Path

import crcmod
import pytest
from tests.cli.clitools import Outcome, run_ours, run_process
from tests.support.server import RunningServer

from ossutil.client.client import OssClient
from ossutil.wire.errors import OssError

MiB = 1024 * 1024


def cp(server: RunningServer, *argv: str, cwd: Path, stdin: bytes = b"") -> Outcome:
    return run_ours(["cp", *argv, "-e", server.endpoint, "-i", server.access_key_id,
                     "-k", server.access_key_secret, "-c", str(cwd / "no-config")],
                    stdin=stdin, cwd=cwd)


def report(outcome: Outcome) -> str:
    """stdout with the two figures that vary masked; exit status appended.

    ossutil prints the average-speed line only when at least one whole millisecond passed, so a
    quick skip may or may not have it: the line, when present, must have its exact form and is
    then dropped.
    """
    text = re.sub(r"\naverage speed \d+\(byte/s\)\n", "", outcome.text)
    text = re.sub(r"\n\d+\.\d{6}\(s\) elapsed\n", "\nT(s) elapsed\n", text)
    text = re.sub(r"RequestId=[0-9A-F]{24}", "RequestId=R", text)
    return f"{text}exit {outcome.code}"


def done(detail: str, size: int = 12, skip: str = "") -> str:
    return (f"\rSucceed: Total num: 1, size: {size:,}. OK num: 1({detail}){skip}.\n"
            "\nT(s) elapsed\nexit 0")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "hello.txt").write_bytes(b"hello world\n")
    return tmp_path


def test_upload_then_download_round_trip(server: RunningServer, client: OssClient, bucket: str,
                                         work: Path) -> None:
    assert report(cp(server, "hello.txt", f"oss://{bucket}/hello.txt", cwd=work)) == \
        done("upload 1 files")
    assert report(cp(server, f"oss://{bucket}/hello.txt", "copy.txt", cwd=work)) == \
        done("download 1 objects")
    assert (work / "copy.txt").read_bytes() == b"hello world\n"
    info = client.head_object(bucket, "hello.txt")
    assert (info.size, info.content_type) == (12, "text/plain")
    assert [p.name for p in work.iterdir() if p.name.endswith(".temp")] == []


def test_key_ending_in_slash_or_empty_takes_the_file_name(server: RunningServer, client: OssClient,
                                                          bucket: str, work: Path) -> None:
    assert cp(server, "hello.txt", f"oss://{bucket}/docs/", cwd=work).code == 0
    assert cp(server, "./hello.txt", f"oss://{bucket}", cwd=work).code == 0
    assert client.head_object(bucket, "docs/hello.txt").size == 12
    assert client.head_object(bucket, "hello.txt").size == 12


def test_download_into_a_directory_keeps_the_object_name(server: RunningServer, client: OssClient,
                                                         bucket: str, work: Path) -> None:
    client.put_object(bucket, "a/b/report.txt", work / "hello.txt")
    (work / "existing").mkdir()
    assert report(cp(server, f"oss://{bucket}/a/b/report.txt", "existing", cwd=work)) == \
        done("download 1 objects")
    assert (work / "existing" / "report.txt").read_bytes() == b"hello world\n"
    # a trailing slash names a directory that need not exist yet
    assert cp(server, f"oss://{bucket}/a/b/report.txt", "new/deeper/", cwd=work).code == 0
    assert (work / "new" / "deeper" / "report.txt").read_bytes() == b"hello world\n"


def test_overwrite_is_asked_and_refused_by_default(server: RunningServer, client: OssClient,
                                                   bucket: str, work: Path) -> None:
    assert cp(server, "hello.txt", f"oss://{bucket}/k", cwd=work).code == 0
    (work / "hello.txt").write_bytes(b"second version\n")
    for answer in (b"", b"n\n", b"y y\n"):
        assert report(cp(server, "hello.txt", f"oss://{bucket}/k", cwd=work, stdin=answer)) == (
            f'\rcp: overwrite "oss://{bucket}/k"(y or N)? '
            + done("skip 1 files", 15, ", Skip size: 15"))
    assert client.head_object(bucket, "k").size == 12  # untouched

    (work / "local.txt").write_bytes(b"keep me")
    assert report(cp(server, f"oss://{bucket}/k", "local.txt", cwd=work, stdin=b"no\n")) == (
        '\rcp: overwrite "local.txt"(y or N)? '
        + done("skip 1 objects", 12, ", Skip size: 12"))
    assert (work / "local.txt").read_bytes() == b"keep me"


def test_overwrite_with_yes_or_force(server: RunningServer, bucket: str, work: Path) -> None:
    assert cp(server, "hello.txt", f"oss://{bucket}/k", cwd=work).code == 0
    (work / "hello.txt").write_bytes(b"second version\n")
    assert report(cp(server, "hello.txt", f"oss://{bucket}/k", cwd=work, stdin=b"YES\n")) == (
        f'\rcp: overwrite "oss://{bucket}/k"(y or N)? ' + done("upload 1 files", 15))
    (work / "hello.txt").write_bytes(b"third\n")
    assert report(cp(server, "hello.txt", f"oss://{bucket}/k", "-f", cwd=work)) == \
        done("upload 1 files", 6)

    (work / "local.txt").write_bytes(b"old")
    assert report(cp(server, f"oss://{bucket}/k", "local.txt", "--force", cwd=work)) == \
        done("download 1 objects", 6)
    assert (work / "local.txt").read_bytes() == b"third\n"
    assert report(cp(server, f"oss://{bucket}/k", "local.txt", cwd=work, stdin=b"y\n")) == (
        '\rcp: overwrite "local.txt"(y or N)? ' + done("download 1 objects", 6))


def test_missing_local_file(server: RunningServer, bucket: str, work: Path) -> None:
    assert report(cp(server, "missing.txt", f"oss://{bucket}/x", cwd=work)) == \
        "Error: stat missing.txt: no such file or directory\nexit 1"


def test_no_such_key_is_the_service_error_line(server: RunningServer, bucket: str,
                                               work: Path) -> None:
    assert report(cp(server, f"oss://{bucket}/nokey", "out.txt", cwd=work)) == (
        "\rFinishWithError: Scanned 1 objects. Error num: 1. OK num: 0, Transfer size: 0.\n"
        "Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchKey, "
        'ErrorMessage="The specified key does not exist.", RequestId=R, Ec=0026-00000001, '
        f"Bucket={bucket}, Object=nokey\nexit 1")
    assert not (work / "out.txt").exists()


def test_no_such_bucket(server: RunningServer, bucket_name: str, work: Path) -> None:
    assert report(cp(server, "hello.txt", f"oss://{bucket_name}/x", cwd=work)) == (
        "\rTotal num: 1, size: 12. Dealed num: 0, Transfer size: 12. When error happens.\n"
        "Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchBucket, "
        'ErrorMessage="The specified bucket does not exist.", RequestId=R, Ec=0015-00000101, '
        "File=hello.txt\nexit 1")
    assert report(cp(server, f"oss://{bucket_name}/x", "out.txt", cwd=work)).startswith(
        "\rFinishWithError: Scanned 1 objects. Error num: 1. OK num: 0, Transfer size: 0.\n")


@pytest.mark.parametrize(("argv", "message"), [
    (["."], 'source URL:[{.}] include directories, please use --recursive option'),
    (["hello.txt", "elsewhere.txt"], 'copy files between local file system is not allowed in '
     'ossutil, if you want to upload to oss, please make sure dest_url starts with "oss://",'
     'dest_url:elsewhere.txt'),
    (["hello.txt", "hello.txt", "oss://BUCKET/"],
     "invalid url: hello.txt, multiple source url in upload operation"),
    (["oss://BUCKET", "got"], "copy object invalid url: oss://BUCKET, object empty. If you mean "
     "batch copy objects, please use --recursive option"),
    (["oss://BUCKET/dir/", "got"],
     "dir/ is a directory (not support copied) object, please use --recursive option"),
    (["hello.txt", "oss://BUCKET//x"],
     'invalid cloud url: oss://BUCKET//x, object name should not begin with "/"'),
    (["hello.txt", "oss://"], "invalid cloud url: oss://, miss bucket"),
    (["hello.txt"], 'invalid usage of "cp" command, reason: the command needs at least 2 '
     'arguments, please try "help cp" for more information'),
    (["oss://BUCKET/a", "oss://BUCKET/b", "-r"],
     "--recursive is not supported by this ossutil's cp between two oss:// urls"),
])
def test_refusals(server: RunningServer, bucket: str, work: Path, argv: list[str],
                  message: str) -> None:
    argv = [arg.replace("BUCKET", bucket) for arg in argv]
    if len(argv) == 1 and argv[0] == ".":
        argv.append(f"oss://{bucket}/x")
    message = message.replace("BUCKET", bucket)
    assert report(cp(server, *argv, cwd=work)) == f"Error: {message}\nexit 1"


def test_a_20_mib_file_streams_both_ways(server: RunningServer, client: OssClient, bucket: str,
                                         tmp_path: Path) -> None:
    data = os.urandom(20 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    del data
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        up = cp(server, "big.bin", f"oss://{bucket}/big.bin", cwd=tmp_path)
        up_peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        down = cp(server, f"oss://{bucket}/big.bin", "back.bin", cwd=tmp_path)
        down_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert report(up) == done("upload 1 files", 20 * MiB)
    assert report(down) == done("download 1 objects", 20 * MiB)
    assert up_peak < 4 * MiB and down_peak < 4 * MiB, (up_peak, down_peak)
    digest = hashlib.md5((tmp_path / "big.bin").read_bytes()).hexdigest().upper()
    assert hashlib.md5((tmp_path / "back.bin").read_bytes()).hexdigest().upper() == digest
    assert client.head_object(bucket, "big.bin").etag == f'"{digest}"'


def test_long_transfers_print_ossutils_progress_line(server: RunningServer, bucket: str,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from ossutil.cli import cp as cp_module

    monkeypatch.setattr(cp_module, "TICK", 0.0)  # every chunk, instead of every 5 s
    (tmp_path / "f.bin").write_bytes(b"x" * MiB)
    text = cp(server, "f.bin", f"oss://{bucket}/f.bin", cwd=tmp_path).text
    segments = text.split("\r")[1:]
    progress = [line for line in segments if line.startswith("Total num")]
    assert re.fullmatch(r"Total num: 1, size: 1,048,576\. Dealed num: 0, OK size: 262,144, "
                        r"Progress: 25\.000%, Speed: \d+\.\d\dKB/s", progress[0])
    assert [re.findall(r"Progress: (\d+)\.000%", line) for line in progress] == [
        ["25"], ["50"], ["75"], ["100"]]
    # a line shorter than the longest so far first blanks it (ossutil's getClearStr); the
    # speed's digit count varies, so blanks may come between progress lines too
    widest = 0
    for line in segments:
        if line.strip():
            widest = max(widest, len(line.split("\n")[0]))
        else:
            assert line == " " * widest
    assert segments[-2] == " " * max(len(line) for line in progress)
    assert segments[-1].startswith("Succeed: Total num: 1, size: 1,048,576. OK num: 1(upload "
                                   "1 files).\n")


def test_client_get_object_keeps_the_target_when_the_download_fails(client: OssClient, bucket: str,
                                                                   tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_bytes(b"precious")
    with pytest.raises(OssError) as caught:
        client.get_object(bucket, "absent", target)
    assert caught.value.code == "NoSuchKey"
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_client_put_object_from_an_open_file_sends_the_rest(client: OssClient, bucket: str,
                                                            tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(b"HEADER<h1>hi</h1>")
    with open(tmp_path / "page.html", "rb") as handle:
        handle.seek(6)
        info = client.put_object(bucket, "page", handle)
    assert info.size == 11 and info.etag == f'"{hashlib.md5(b"<h1>hi</h1>").hexdigest().upper()}"'
    head = client.head_object(bucket, "page")
    assert (head.size, head.content_type) == (11, "text/html")  # from the file's extension
    client.get_object(bucket, "page", tmp_path / "copy.html")
    assert (tmp_path / "copy.html").read_bytes() == b"<h1>hi</h1>"


@pytest.mark.slow
def test_go_ossutil_moves_and_stats_objects_on_our_server(server: RunningServer, bucket: str,
                                                           work: Path, go_binary: Path,
                                                           client: OssClient) -> None:
    """The real Go ossutil's object commands work against our server: cp both ways and within
    the bucket (CopyObject), stat (which reads the object ACL too: ``GET ?acl`` on an object),
    du and rm -r."""
    common = ["-e", server.endpoint, "-i", server.access_key_id, "-k",
              server.access_key_secret, "-c", str(work / "none.cfg")]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(work)}

    def go(*argv: str) -> Outcome:
        return run_process([go_binary, *argv, *common], cwd=work, env=env)

    assert report(go("cp", "hello.txt", f"oss://{bucket}/k")) == done("upload 1 files")
    stat = go("stat", f"oss://{bucket}/k")
    assert stat.code == 0, stat.text
    lines = stat.text.splitlines()
    md5 = hashlib.md5(b"hello world\n").hexdigest().upper()
    crc = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF,
                          rev=True)(b"hello world\n")
    for expected in ["ACL                   : default", "Content-Length        : 12",
                     f"Etag                  : {md5}", f"X-Oss-Hash-Crc64ecma  : {crc}",
                     "X-Oss-Object-Type     : Normal"]:
        assert expected in lines
    assert report(go("cp", f"oss://{bucket}/k", "back.txt")) == done("download 1 objects")
    assert (work / "back.txt").read_bytes() == b"hello world\n"
    copied = go("cp", f"oss://{bucket}/k", f"oss://{bucket}/k2")  # CopyObject
    assert copied.code == 0 and "OK num: 1(copy 1 objects)" in copied.text, copied.text
    assert client.head_object(bucket, "k2").size == 12
    du = go("du", f"oss://{bucket}")  # ListObjects plus ListMultipartUploads
    assert du.code == 0, du.text
    assert "total du size(byte):24" in du.text.splitlines()
    removed = go("rm", f"oss://{bucket}/", "-r", "-f")  # ListObjects + DeleteMultipleObjects
    assert removed.code == 0 and "Succeed: Total 2 objects. Removed 2 objects." in removed.text
    for key in ("k", "k2"):
        with pytest.raises(OssError):
            client.head_object(bucket, key)


# --- oss:// to oss:// (CopyObject) -------------------------------------------------------------

def test_copy_between_buckets(server: RunningServer, client: OssClient, bucket: str,
                              bucket_name: str, work: Path) -> None:
    other = bucket_name + "-copy"
    client.create_bucket(other)
    assert cp(server, "hello.txt", f"oss://{bucket}/dir/hello.txt", cwd=work).code == 0
    copied = done("copy 1 objects", 12)
    assert report(cp(server, f"oss://{bucket}/dir/hello.txt", f"oss://{other}/x/",
                     cwd=work)) == copied
    assert report(cp(server, f"oss://{bucket}/dir/hello.txt", f"oss://{other}", cwd=work)) == \
        copied
    assert client.head_object(other, "x/hello.txt").size == 12
    assert client.head_object(other, "hello.txt").size == 12
    assert report(cp(server, f"oss://{bucket}/dir/hello.txt", f"oss://{other}/hello.txt",
                     cwd=work, stdin=b"n\n")) == (
        f'\rcp: overwrite "oss://{other}/hello.txt"(y or N)? '
        + done("skip 1 objects", 12, ", Skip size: 12"))
    assert report(cp(server, f"oss://{bucket}/dir/hello.txt", f"oss://{other}/hello.txt", "-f",
                     cwd=work)) == copied
    assert report(cp(server, f"oss://{bucket}/nokey", f"oss://{other}/k", cwd=work)) == (
        "\rFinishWithError: Scanned 1 objects. Error num: 1. OK num: 0, Transfer size: 0.\n"
        "Error: oss: service returned error: StatusCode=404, ErrorCode=NoSuchKey, "
        'ErrorMessage="The specified key does not exist.", RequestId=R, Ec=0026-00000001, '
        f"Bucket={bucket}, Object=nokey\nexit 1")
    assert report(cp(server, f"oss://{bucket}/dir/", f"oss://{other}/k", cwd=work)) == (
        "Error: cp: dir/ is a directory (not copied), please use --recursive option\nexit 1")


@pytest.mark.slow
def test_copy_same_as_go(server: RunningServer, client: OssClient, bucket: str,
                         bucket_name: str, work: Path, go_binary: Path) -> None:
    other = bucket_name + "-gocopy"
    client.create_bucket(other)
    assert cp(server, "hello.txt", f"oss://{bucket}/site/css/s.css", cwd=work).code == 0
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(work)}
    common = ["-e", server.endpoint, "-i", server.access_key_id, "-k",
              server.access_key_secret, "-c", str(work / "none.cfg")]
    source = f"oss://{bucket}/site/css/s.css"
    cases: list[tuple[list[str], bytes, bool]] = [
        ([source, f"oss://{other}/x/"], b"", False), ([source, f"oss://{other}"], b"", False),
        ([source, f"oss://{other}/named"], b"", False),
        ([source, f"oss://{other}/named"], b"n\n", True),
        ([source, f"oss://{other}/named"], b"y\n", True),
        ([source, f"oss://{other}/named", "-f"], b"", True),
        ([f"oss://{bucket}/nokey", f"oss://{other}/k"], b"", False),
        ([f"oss://{bucket_name}-none/k", f"oss://{other}/k"], b"", False),
        ([source, f"oss://{bucket_name}-none/k"], b"", False),
        ([f"oss://{bucket}/site/css/", f"oss://{other}/k"], b"", False),
    ]
    for argv, stdin, existing in cases:
        results = []
        for command in ([str(go_binary)], ["ours"]):
            for key in ("named", "x/s.css", "s.css", "k"):
                client.delete_object(other, key)
            if existing:
                client.copy_object(bucket, "site/css/s.css", other, "named")
            if command == ["ours"]:
                outcome = run_ours(["cp", *argv, *common], stdin=stdin, cwd=work)
            else:
                # Go's final line races its scanner: when the copy fails before the scan has
                # summed the sizes it says "Scanned N objects." instead of "Total num: N, size:
                # S." (both seen for one command line); ours always has the total, so Go is
                # asked again until it prints the settled form
                for _ in range(8):
                    outcome = run_process([*command, "cp", *argv, *common], stdin=stdin,
                                          cwd=work, env=env)
                    if b"FinishWithError: Scanned " not in outcome.stdout:
                        break
            results.append(report(outcome))
        assert results[0] == results[1], (argv, stdin)


# --- -r: a directory up, a prefix down ----------------------------------------------------------

def site(root: Path) -> Path:
    (root / "site" / "css").mkdir(parents=True)
    (root / "site" / "empty").mkdir()
    (root / "site" / "index.html").write_bytes(b"a\n")
    (root / "site" / "about.html").write_bytes(b"b\n")
    (root / "site" / "css" / "s.css").write_bytes(b"c\n")
    return root / "site"


def keys_of(client: OssClient, bucket: str, prefix: str = "") -> list[str]:
    return [item.key for item in client.list_objects_page(bucket, prefix=prefix).objects]


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in root.rglob("*"))


def test_recursive_upload_and_download(server: RunningServer, client: OssClient, bucket: str,
                                       work: Path) -> None:
    site(work)
    uploaded = ("\rSucceed: Total num: 5, size: 6. OK num: 5(upload 3 files, 2 directories).\n"
                "\nT(s) elapsed\nexit 0")
    assert report(cp(server, "site", f"oss://{bucket}/www", "-r", cwd=work)) == uploaded
    assert keys_of(client, bucket) == ["www/about.html", "www/css/", "www/css/s.css",
                                       "www/empty/", "www/index.html"]
    assert client.head_object(bucket, "www/css/").size == 0
    assert report(cp(server, "site", f"oss://{bucket}/www/", "-r", "-f", cwd=work)) == uploaded

    downloaded = ("\rSucceed: Total num: 5, size: 6. OK num: 5(download 5 objects).\n"
                  "\nT(s) elapsed\nexit 0")
    assert report(cp(server, f"oss://{bucket}/www/", "back", "-r", cwd=work)) == downloaded
    assert tree(work / "back") == ["about.html", "css/", "css/s.css", "empty/", "index.html"]
    assert (work / "back" / "css" / "s.css").read_bytes() == b"c\n"
    # without the trailing slash the prefix's own name is kept, as ossutil does
    assert report(cp(server, f"oss://{bucket}/www", "again", "-r", cwd=work)) == downloaded
    assert tree(work / "again")[:2] == ["www/", "www/about.html"]


def test_recursive_asks_per_existing_target(server: RunningServer, client: OssClient,
                                            bucket: str, work: Path) -> None:
    site(work)
    assert cp(server, "site", f"oss://{bucket}/", "-r", cwd=work).code == 0
    (work / "site" / "index.html").write_bytes(b"new\n")
    outcome = cp(server, "site", f"oss://{bucket}/", "-r", cwd=work,
                 stdin=b"n\nn\nn\nn\ny\n")  # about, css/, css/s.css, empty/, index
    assert outcome.code == 0
    assert "Total num: 5, size: 8. OK num: 5(upload 1 files, skip 4 files), Skip size: 4." \
        in outcome.text
    assert outcome.text.count("cp: overwrite ") == 5
    assert client.head_object(bucket, "index.html").size == 4


@pytest.mark.slow
def test_recursive_same_as_go(server: RunningServer, client: OssClient, bucket: str,
                              bucket_name: str, work: Path, go_binary: Path) -> None:
    import shutil

    site(work)
    source = bucket_name + "-rsrc"
    client.create_bucket(source)
    assert cp(server, "site", f"oss://{source}/up", "-r", cwd=work).code == 0
    assert cp(server, "site", f"oss://{source}/up2/", "-r", cwd=work).code == 0
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(work)}
    common = ["-e", server.endpoint, "-i", server.access_key_id, "-k",
              server.access_key_secret, "-c", str(work / "none.cfg")]
    cases = [["site", f"oss://{bucket}/", "-r"], ["site", f"oss://{bucket}/up", "-r", "-f"],
             ["site/", f"oss://{bucket}/up3/", "-r"], ["site/index.html", f"oss://{bucket}/x/",
                                                       "-r"],
             [f"oss://{source}/up", "dl", "-r"], [f"oss://{source}/up/", "dl", "-r", "-f"],
             [f"oss://{source}/up2/css", "dl/", "-r"], [f"oss://{source}/nothing", "dl", "-r"]]
    for argv in cases:
        results = []
        for command in ([str(go_binary)], ["ours"]):
            keys = keys_of(client, bucket)
            if keys:
                client.delete_objects(bucket, keys)
            shutil.rmtree(work / "dl", ignore_errors=True)
            if command == ["ours"]:
                outcome = cp_words(argv, common, work)
            else:
                outcome = run_process([*command, "cp", *argv, *common], cwd=work, env=env)
            results.append((report(outcome), keys_of(client, bucket),
                            tree(work / "dl") if (work / "dl").exists() else []))
        assert results[0] == results[1], argv


def cp_words(argv: list[str], common: list[str], work: Path) -> Outcome:
    return run_ours(["cp", *argv, *common], cwd=work)


def test_recursive_download_never_writes_outside_the_target(server: RunningServer,
                                                            client: OssClient, bucket: str,
                                                            work: Path) -> None:
    (work / "body").write_bytes(b"x")
    client.put_object(bucket, "p/ok.txt", work / "body")
    client.put_object(bucket, "p/../../escaped.txt", work / "body")
    outcome = cp(server, f"oss://{bucket}/p/", "inside", "-r", "-f", cwd=work)
    assert report(outcome) == (
        "Error: object p/../../escaped.txt would be written outside inside; nothing downloaded "
        "(keys with . or .. path segments are refused)\nexit 1")
    assert not (work.parent / "escaped.txt").exists() and not (work / "inside").exists()
