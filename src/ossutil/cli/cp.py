"""``ossutil cp``: upload one file or download one object, printed as ossutil 1.7.19 prints it.

    ossutil cp LOCAL_FILE oss://bucket[/key | /prefix/]     PutObject, streamed from disk
    ossutil cp oss://bucket/key LOCAL_FILE_OR_DIR           GetObject, streamed to a temp file
    ossutil cp oss://bucket/key oss://bucket2[/key2 | /prefix/]   CopyObject, server side
    ossutil cp LOCAL_DIR oss://bucket[/prefix] -r           every file, plus ``dir/`` objects
    ossutil cp oss://bucket/prefix LOCAL_DIR -r             every object under the prefix

A key that is empty or ends in ``/`` gets the file's base name appended; a download into a
directory (existing, or named with a trailing ``/``) keeps the object's base name. An existing
target is overwritten only after ``y``/``yes`` at ossutil's prompt, or with ``-f``; with ``-u``
(``--update``) it is overwritten, without asking, only when the source's modification time (in
whole seconds) is later than the target's, and skipped otherwise, as ossutil 1.7 does. When the
prompt goes unanswered because stdin is not a terminal (a script, CI), stdout is 1.7's and
stderr says that nothing was copied and names ``-f``/``-u`` (beyond 1.7).

Output (stdout, as Go's ossutil writes it; verified byte for byte against the v1.7.19 binary)::

    \\rSucceed: Total num: 1, size: 12. OK num: 1(upload 1 files).\\n
    \\naverage speed 1000(byte/s)\\n              (transferred bytes / whole ms * 1000; only
                                                when at least 1 ms passed)
    \\n0.013318(s) elapsed\\n                   (main's elapsed line)

A transfer that runs longer than 5 s also prints ossutil's progress line every 5 s
(``\\rTotal num: 1, size: …. Dealed num: 0, OK size: …, Progress: 42.000%, Speed: …KB/s``);
lines are cleared the way ossutil's ``getClearStr`` does it. On failure the finish bar and the
speed line come first, then ``Error: <message>, File=<path>`` (upload) or
``Error: <message>, Bucket=<b>, Object=<key>`` (download), exit status 1.

Not done here (refused with a clear error rather than ignored): ``-r`` between two cloud URLs
and every option that changes what is transferred or how it is named (``--meta``,
``--acl``, ``--range``, ``--include``/``--exclude``, ``--snapshot-path``, ...). Options that
only tune a transfer (``--bigfile-threshold``, ``--part-size``, ``-j``, ``--parallel``,
``--checkpoint-dir``, ``--retry-times``, ``--disable-crc64``, ``--output-dir``) are accepted and
have no effect: every transfer is one streamed PutObject or GetObject, without retries.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable

from ossutil.cli.command import (
    CliError,
    CommandSpec,
    Context,
    check_bucket_name,
    client_for,
    given_option,
    init_command,
)
from ossutil.cli.options import COMMON_OPTIONS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ossutil.client.client import ObjectInfo, OssClient
    from ossutil.client.config import Settings

# ossutil's cp accepts these besides the common ones (lib/cp.go, validOptionNames).
_TUNING = ("bigfileThreshold", "partSize", "checkpointDir", "routines", "parallel",
           "retryTimes", "disableCRC64", "outputDir", "disableIgnoreError")
_REFUSED = ("range", "encodingType", "include", "exclude", "meta", "acl",
            "snapshotPath", "payer", "maxupspeed", "maxdownspeed", "partitionDownload",
            "versionId", "localHost", "enableSymlinkDir", "onlyCurrentDir", "disableDirObject",
            "disableAllSymlink", "tagging", "startTime", "endTime")
SPEC = CommandSpec("cp", min_args=2, max_args=2**31 - 1,
                   valid_options=COMMON_OPTIONS + ("force", "update", "recursive") + _TUNING
                   + _REFUSED)

TICK = 5.0  # seconds between progress lines (ossutil's processTickInterval)


def run(ctx: Context) -> None:
    settings = init_command(SPEC, ctx)
    sources = [_storage_url(text) for text in ctx.args[:-1]]
    dest = _storage_url(ctx.args[-1])
    for url in sources:
        if isinstance(url, _Cloud) and not url.bucket:
            raise CliError(f"invalid cloud url: {url.text}, miss bucket")
    if isinstance(dest, _Cloud) and not dest.bucket:
        raise CliError(f"invalid cloud url: {dest.text}, miss bucket")
    first = sources[0]
    if isinstance(first, _Cloud):
        if len(sources) > 1:
            kind = "download" if isinstance(dest, str) else "copy"
            raise CliError(f"invalid url: {_text(sources[1])}, multiple source url in {kind} "
                           "operation")
    else:
        if not isinstance(dest, _Cloud):
            raise CliError("copy files between local file system is not allowed in ossutil, if "
                           "you want to upload to oss, please make sure dest_url starts with "
                           f'"oss://",dest_url:{dest}')
        for url in sources:
            if isinstance(url, _Cloud):
                raise CliError(f"invalid url: {url.text}, copy between oss operation appear in "
                               "upload operation, multi-type operations is not supported in one "
                               "command")
        if len(sources) > 1:
            raise CliError(f"invalid url: {_text(sources[1])}, multiple source url in upload "
                           "operation")
    _refuse_unimplemented(settings)
    force = _Policy(settings.flag("force"), settings.flag("update"))
    if settings.flag("recursive"):
        if isinstance(first, _Cloud) and isinstance(dest, _Cloud):
            raise CliError("--recursive is not supported by this ossutil's cp between two "
                           "oss:// urls")
        if isinstance(first, _Cloud):
            assert isinstance(dest, str)
            _download_tree(ctx, settings, first, dest, force)
        else:
            assert isinstance(dest, _Cloud)
            _upload_tree(ctx, settings, first, dest, force)
    elif isinstance(first, _Cloud):
        if isinstance(dest, _Cloud):
            _copy(ctx, settings, first, dest, force)
        else:
            _download(ctx, settings, first, dest, force)
    else:
        assert isinstance(dest, _Cloud)
        _upload(ctx, settings, first, dest, force)


# --- upload ------------------------------------------------------------------------------------


def _upload(ctx: Context, settings: Settings, path: str, dest: _Cloud, force: _Policy) -> None:
    if dest.object.startswith("/"):
        raise CliError(f'invalid cloud url: {dest.text}, object name should not begin with "/"')
    client = client_for(settings, dest.bucket, ctx)
    try:
        info = os.stat(path)
    except OSError as stat_error:
        raise CliError(_path_error("stat", path, stat_error)) from stat_error
    if stat.S_ISDIR(info.st_mode):
        raise CliError(f"source URL:[{{{path}}}] include directories, please use --recursive "
                       "option")
    check_bucket_name(dest.bucket)
    key = dest.object
    if not key or key.endswith("/"):
        key += os.path.basename(path)
    shown_path = _go_clean(path)
    monitor = _Monitor("upload", ctx)
    monitor.scanned(info.st_size)
    started = _now_ms()
    error = _one(monitor, info.st_size,
                 keep=_keep_object(ctx, monitor, client, dest.bucket, key, force,
                                   info.st_mtime),
                 action=lambda: client.put_object(dest.bucket, key, path,
                                                  progress=monitor.transferred))
    ctx.out.write(monitor.finish_bar(failed=error is not None))
    monitor.speed_line(started)
    if error is not None:
        raise CliError(f"{_message(error)}, File={shown_path}") from error


def _one(monitor: _Monitor, size: int, *, keep: bool,
         action: Callable[[], object]) -> Exception | None:
    """One object's fate, counted as ossutil counts it: skipped (``keep``: the target stays),
    done, or failed (the failure is returned, to be reported after the finish bar)."""
    if keep:
        monitor.skip_num, monitor.skip_size = 1, size
        return None
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - reported by the caller in ossutil's layout
        monitor.err_num = 1
        return exc
    monitor.file_num = 1
    return None


class _Policy:
    """What happens to an existing target: ``-f`` overwrites; ``-u`` overwrites an older one
    and keeps the rest, without asking; neither asks."""

    def __init__(self, force: bool, update: bool) -> None:
        self.force = force
        self.update = update


def _keep_object(ctx: Context, monitor: _Monitor, client: OssClient, bucket: str, key: str,
                 force: _Policy, source_time: float) -> bool:
    """An existing object stays unless -f, -u with a newer source, or a yes at the prompt."""
    if force.force:
        return False
    existing = _existing(client, bucket, key)
    if existing is None:
        return False
    if force.update:
        return not _newer(source_time, _object_time(existing.last_modified))
    return not _confirm(ctx, monitor, f"oss://{bucket}/{key}")


def _keep_file(ctx: Context, monitor: _Monitor, path: str, force: _Policy,
               source_time: float) -> bool:
    """An existing local file stays unless -f, -u with a newer source, or a yes; a directory
    in the way always stays."""
    if force.force or not os.path.exists(path):
        return False
    if os.path.isdir(path):
        return True
    if force.update:
        return not _newer(source_time, os.stat(path).st_mtime)
    return not _confirm(ctx, monitor, path)


def _newer(source: float, target: float | None) -> bool:
    """ossutil's -u test: the source's Unix second is after the target's (unknown: newer)."""
    return target is None or int(source) > int(target)


def _object_time(text: str) -> float | None:
    """An object's Last-Modified (RFC 1123 from a HEAD, ISO 8601 from a listing) in Unix
    seconds, None if unreadable."""
    from ossutil.wire import dates

    for parse in (dates.parse_rfc1123, dates.parse_iso8601):
        try:
            return parse(text).timestamp()
        except (ValueError, TypeError):
            continue
    return None


def _existing(client: OssClient, bucket: str, key: str) -> ObjectInfo | None:
    """ossutil's pre-upload ``GetObjectMeta``: any failure counts as "not there"."""
    try:
        return client.get_object_meta(bucket, key)
    except Exception:  # noqa: BLE001 - as ossutil: an error means "go ahead and upload"
        return None


# --- download ----------------------------------------------------------------------------------


def _download(ctx: Context, settings: Settings, src: _Cloud, dest: str, force: _Policy) -> None:
    client = client_for(settings, src.bucket, ctx)
    target = dest
    if not target.endswith(("/", "\\")) and os.path.isdir(target):
        target += "/"
    if target.endswith(("/", "\\")):
        _mkdir_all(target)
    if not src.object:
        raise CliError(f"copy object invalid url: oss://{src.bucket}, object empty. If you mean "
                       "batch copy objects, please use --recursive option")
    if src.object.endswith("/"):
        raise CliError(f"{src.object} is a directory (not support copied) object, please use "
                       "--recursive option")
    check_bucket_name(src.bucket)
    file_name = target + src.object.rsplit("/", 1)[-1] if target.endswith(("/", "\\")) else target
    monitor = _Monitor("download", ctx)
    started = _now_ms()
    size, error = _scan(client, monitor, src)
    if error is None:
        def fetch() -> None:
            _mkdir_all(os.path.dirname(os.path.abspath(file_name)))
            client.get_object(src.bucket, src.object, file_name, progress=monitor.transferred)

        error = _one(monitor, size,
                     keep=_keep_file(ctx, monitor, file_name, force, monitor.source_time),
                     action=fetch)
    ctx.out.write(monitor.finish_bar(failed=False))
    monitor.speed_line(started)
    if error is not None:
        message = _message(error)
        if not isinstance(error, CliError):  # a local mkdir failure is printed bare
            message += f", Bucket={src.bucket}, Object={src.object}"
        raise CliError(message) from error


# --- -r: a directory up, a prefix down ---------------------------------------------------------


def _upload_tree(ctx: Context, settings: Settings, path: str, dest: _Cloud,
                 force: _Policy) -> None:
    """Every file under ``path`` as ``<dest prefix>/<relative path>``, and every directory as a
    ``<relative path>/`` object, as ossutil does (the directory itself is not named)."""
    if dest.object.startswith("/"):
        raise CliError(f'invalid cloud url: {dest.text}, object name should not begin with "/"')
    try:
        info = os.stat(path)
    except OSError as stat_error:
        raise CliError(_path_error("stat", path, stat_error)) from stat_error
    if not stat.S_ISDIR(info.st_mode):
        _upload(ctx, settings, path, dest, force)
        return
    check_bucket_name(dest.bucket)
    client = client_for(settings, dest.bucket, ctx)
    prefix = dest.object if not dest.object or dest.object.endswith("/") else dest.object + "/"
    entries: list[tuple[str, str, int]] = []  # (key, local path or "" for a directory, size)
    for root, dirs, files in os.walk(path):
        dirs.sort()
        relative = os.path.relpath(root, path)
        base = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        if base:
            entries.append((prefix + base, "", 0))
        for name in sorted(files):
            local = os.path.join(root, name)
            entries.append((prefix + base + name, local, os.path.getsize(local)))
    entries.sort()
    monitor = _Monitor("upload", ctx)
    monitor.scanned_many(len(entries), sum(size for _, _, size in entries))
    started = _now_ms()
    error: tuple[Exception, str] | None = None
    for key, local, size in entries:
        if _keep_object(ctx, monitor, client, dest.bucket, key, force,
                        os.stat(local or path).st_mtime):
            monitor.skip_num += 1
            monitor.skip_size += size
            continue
        try:
            if local:
                client.put_object(dest.bucket, key, local,
                                  progress=monitor.counting_from(monitor.transfer))
                monitor.file_num += 1
            else:
                client.put_object(dest.bucket, key, os.devnull,
                                  content_type="application/octet-stream")
                monitor.dir_num += 1
        except Exception as exc:  # noqa: BLE001 - reported below in ossutil's layout
            monitor.err_num += 1
            error = (exc, _go_clean(local) if local else key)
            break
    ctx.out.write(monitor.finish_bar(failed=error is not None))
    monitor.speed_line(started)
    if error is not None:
        raise CliError(f"{_message(error[0])}, File={error[1]}") from error[0]


def _download_tree(ctx: Context, settings: Settings, src: _Cloud, dest: str,
                   force: _Policy) -> None:
    """Every object whose key starts with the source prefix, at its key relative to the
    prefix's directory part (``oss://b/up`` -> ``dest/up/...``, ``oss://b/up/`` ->
    ``dest/...``); ``.../`` objects become directories."""
    check_bucket_name(src.bucket)
    client = client_for(settings, src.bucket, ctx)
    monitor = _Monitor("download", ctx)
    started = _now_ms()
    cut = src.object.rfind("/") + 1
    try:
        objects = [(item.key, item.size, item.last_modified)
                   for page in client.object_pages(src.bucket, src.object)
                   for item in page.objects]
    except Exception as exc:  # noqa: BLE001 - reported below in ossutil's layout
        monitor.speed_line(started)  # as Go: no finish bar when the listing fails
        raise CliError(f"{_message(exc)}, Bucket={src.bucket}, Object=") from exc
    for key, _, _ in objects:  # a key with ".." segments must not write outside the target
        if any(part in ("..", ".") for part in key[cut:].split("/")):
            raise CliError(f"object {key} would be written outside {dest}; nothing downloaded "
                           "(keys with . or .. path segments are refused)")
    monitor.scanned_many(len(objects), sum(size for _, size, _ in objects))
    error: tuple[Exception, str] | None = None
    for key, size, modified in objects:
        target = os.path.join(dest, *key[cut:].split("/"))
        try:
            if key.endswith("/"):
                _mkdir_all(target)
                monitor.file_num += 1
                continue
            if _keep_file(ctx, monitor, target, force,
                          _object_time(modified) or 0.0):
                monitor.skip_num += 1
                monitor.skip_size += size
                continue
            _mkdir_all(os.path.dirname(os.path.abspath(target)))
            client.get_object(src.bucket, key, target,
                              progress=monitor.counting_from(monitor.transfer))
            monitor.file_num += 1
        except Exception as exc:  # noqa: BLE001 - reported below in ossutil's layout
            monitor.err_num += 1
            error = (exc, key)
            break
    ctx.out.write(monitor.finish_bar(failed=False))
    monitor.speed_line(started)
    if error is not None:
        message = _message(error[0])
        if not isinstance(error[0], CliError):
            message += f", Bucket={src.bucket}, Object={error[1]}"
        raise CliError(message) from error[0]


# --- copy (oss:// to oss://) -------------------------------------------------------------------


def _copy(ctx: Context, settings: Settings, src: _Cloud, dest: _Cloud, force: _Policy) -> None:
    """CopyObject of one object; the target key gets the source's base name appended when it
    is empty or ends in ``/``. Output as ossutil's (``copy 1 objects``)."""
    if src.object.endswith("/"):
        raise CliError(f"cp: {src.object} is a directory (not copied), please use --recursive "
                       "option")
    client = client_for(settings, src.bucket, ctx)
    monitor = _Monitor("copy", ctx)
    started = _now_ms()
    if not src.object:
        monitor.speed_line(started)  # as Go: printed if a whole millisecond passed already
        raise CliError(f"copy object invalid url: oss://{src.bucket}, object empty. If you mean "
                       "batch copy objects, please use --recursive option")
    check_bucket_name(src.bucket)
    check_bucket_name(dest.bucket)
    key = dest.object
    if not key or key.endswith("/"):
        key += src.object.rsplit("/", 1)[-1]
    size, error = _scan(client, monitor, src)
    if error is None:
        error = _one(monitor, size,
                     keep=_keep_object(ctx, monitor, client, dest.bucket, key, force,
                                       monitor.source_time),
                     action=lambda: client.copy_object(src.bucket, src.object, dest.bucket,
                                                       key))
    ctx.out.write(monitor.finish_bar(failed=False))
    monitor.speed_line(started)
    if error is not None:
        raise CliError(f"{_message(error)}, Bucket={src.bucket}, Object={src.object}") \
            from error


def _scan(client: OssClient, monitor: _Monitor, src: _Cloud) -> tuple[int, Exception | None]:
    """HeadObject of the one source object: its size, or the failure (counted as ossutil's
    scan error, reported after the finish bar)."""
    try:
        info = client.head_object(src.bucket, src.object)
    except Exception as exc:  # noqa: BLE001 - reported later in ossutil's layout
        monitor.scan_error = True
        monitor.err_num = 1
        return 0, exc
    monitor.source_time = _object_time(info.last_modified) or 0.0  # for -u
    monitor.scanned(info.size)
    return info.size, None


# --- the progress monitor (lib/monitor.go, CPMonitor) ------------------------------------------


class _Monitor:
    """Counts and texts of ossutil's ``CPMonitor`` for one file."""

    def __init__(self, op: str, ctx: Context) -> None:
        self.op = op  # "upload" or "download"
        self.subject = "files" if op == "upload" else "objects"
        self.ctx = ctx
        self.total_size = 0
        self.total_num = 0
        self.scan_end = False
        self.scan_error = False
        self.transfer = 0  # bytes moved (also on failure, as ossutil counts them)
        self.file_num = 0
        self.skip_num = 0
        self.skip_size = 0
        self.source_time = 0.0  # the source object's Last-Modified (-u), set by ``_scan``
        self.dir_num = 0  # -r upload: directory objects made ("..., 2 directories")
        self.err_num = 0
        self.clear_len = 0
        self.last_snap = time.monotonic()
        self.last_snap_size = 0

    def scanned(self, size: int) -> None:
        self.total_size, self.total_num, self.scan_end = size, 1, True

    def scanned_many(self, num: int, size: int) -> None:
        self.total_size, self.total_num, self.scan_end = size, num, True

    def counting_from(self, base: int) -> Callable[[int], None]:
        """A progress callback for the next file of several: its bytes on top of ``base``."""
        return lambda moved: self.transferred(base + moved)

    def clear(self, text: str) -> str:
        """``getClearStr``: ``\\r`` + text, blanking a longer previous line first."""
        if self.clear_len <= len(text):
            self.clear_len = len(text)
            return "\r" + text
        return "\r" + " " * self.clear_len + "\r" + text

    def transferred(self, count: int) -> None:
        """Progress callback: bytes moved so far; a progress line every ``TICK`` seconds."""
        self.transfer = count
        now = time.monotonic()
        if now - self.last_snap < TICK:
            return
        duration, increment = now - self.last_snap, self.transfer - self.last_snap_size
        self.last_snap, self.last_snap_size = now, self.transfer
        speed = increment / 1024 / duration
        deal = self.transfer + self.skip_size
        if self.scan_end and not self.scan_error:
            percent = (deal * 100 / self.total_size if self.total_size
                       else (100.0 if not self.total_num else 0.0))
            text = (f"Total num: {self.total_num}, size: {_size(self.total_size)}. Dealed num: "
                    f"0, OK size: {_size(deal)}, Progress: {percent:.3f}%, "
                    f"Speed: {speed:.2f}KB/s")
        else:
            text = (f"Scanned num: {max(self.total_num, 0)}, size: "
                    f"{_size(max(self.total_size, deal))}. Dealed num: 0, OK size: "
                    f"{_size(deal)}, Speed: {speed:.2f}KB/s.")
        self.ctx.out.write(self.clear(text))
        self.ctx.out.flush()

    def finish_bar(self, *, failed: bool) -> str:
        ok = self.file_num + self.dir_num + self.skip_num
        deal_num = ok + self.err_num
        scanned = self.scan_end and not self.scan_error
        if failed:  # getDefeatBar
            head = (f"Total num: {self.total_num}, size: {_size(self.total_size)}" if scanned
                    else f"Scanned {max(self.total_num, deal_num)} {self.subject}")
            return self.clear(f"{head}. Dealed num: {ok}{self._num_detail(False)}"
                              f"{self._size_detail()}. When error happens.\n")
        if self.err_num == 0:
            size = self.total_size if scanned else self.transfer + self.skip_size
            num = self.total_num if scanned else max(self.total_num, deal_num)
            skip = f", Skip size: {_size(self.skip_size)}" if self.skip_size else ""
            return self.clear(f"Succeed: Total num: {num}, size: {_size(size)}. OK num: {ok}"
                              f"{self._num_detail(True)}{skip}.\n")
        head = (f"Total num: {self.total_num}, size: {_size(self.total_size)}" if scanned
                else f"Scanned {max(self.total_num, deal_num)} {self.subject}")
        return self.clear(f"FinishWithError: {head}. Error num: {self.err_num}. OK num: {ok}"
                          f"{self._num_detail(False)}{self._size_detail()}.\n")

    def _num_detail(self, with_errors: bool) -> str:
        if not with_errors and self.file_num + self.dir_num + self.skip_num == 0:
            return ""
        parts = []
        if with_errors and self.err_num:
            parts.append(f"Error {self.err_num} {self.subject}")
        if self.file_num:
            parts.append(f"{self.op} {self.file_num} {self.subject}")
        if self.dir_num:
            parts.append(f"{self.dir_num} directories")
        if self.skip_num:
            parts.append(f"skip {self.skip_num} {self.subject}")
        return f"({', '.join(parts)})" if parts else ""

    def _size_detail(self) -> str:
        if not self.skip_size:
            return f", Transfer size: {_size(self.transfer)}"
        if not self.transfer:
            return f", Skip size: {_size(self.skip_size)}"
        return (f", OK size: {_size(self.transfer + self.skip_size)}(transfer: "
                f"{_size(self.transfer)}, skip: {_size(self.skip_size)})")

    def speed_line(self, started_ms: int) -> None:
        """``\\naverage speed N(byte/s)\\n`` when at least one whole millisecond passed (a copy
        moves no bytes through ossutil: its speed is 0)."""
        elapsed = _now_ms() - started_ms
        if elapsed > 0:
            self.ctx.out.write(f"\naverage speed {self.transfer // elapsed * 1000}(byte/s)\n")


def _confirm(ctx: Context, monitor: _Monitor, name: str) -> bool:
    """``cp: overwrite "<name>"(y or N)? `` then one word: y or yes (any case)."""
    ctx.out.write(monitor.clear(f'cp: overwrite "{name}"(y or N)? '))
    ctx.out.flush()
    line = ctx.stdin.readline()
    words = line.split()
    if len(words) == 1 and words[0].lower() in (b"y", b"yes"):
        return True
    if not _interactive(ctx):
        _not_copied(name, line)
    return False


def _interactive(ctx: Context) -> bool:
    try:
        return os.isatty(ctx.stdin.fileno())
    except (AttributeError, OSError, ValueError):  # a BytesIO, a closed stdin
        return False


def _not_copied(name: str, line: bytes) -> None:
    """Beyond 1.7, on stderr when stdin is not a terminal: stdout keeps 1.7's prompt, and the
    script running us learns why the target stayed as it was and how not to be asked."""
    if line:
        reason = f"the answer read from stdin was {line.decode('utf-8', 'replace').strip()!r}"
    else:
        reason = "stdin is not a terminal and gave no answer"
    sys.stderr.write(f'cp: "{name}" exists and was not overwritten: {reason}; nothing was '
                     "copied to it. Use -f (--force) to overwrite without asking, or -u "
                     "(--update) to copy only when the source is newer.\n")
    sys.stderr.flush()


# --- helpers -----------------------------------------------------------------------------------


class _Cloud:
    """``oss://bucket/object`` as typed (``text``) and split."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bucket, _, self.object = text[len("oss://"):].partition("/")


def _storage_url(text: str) -> _Cloud | str:
    """A cloud URL, or a local path with a leading ``~/`` expanded (ossutil's FileURL)."""
    if text.lower().startswith("oss://"):
        return _Cloud(text)
    if text.startswith("~" + os.sep):
        from ossutil.client.config import home_directory

        home = home_directory()
        if home:
            return home + text[1:]
    return text


def _text(url: _Cloud | str) -> str:
    return url.text if isinstance(url, _Cloud) else url


def _refuse_unimplemented(settings: Settings) -> None:
    refused = given_option(settings, _REFUSED)
    if refused is not None:
        raise CliError(f"{refused.long} is not supported by this ossutil's cp (one file or one "
                       "object per command)")


def _message(error: Exception) -> str:
    from ossutil.cli.main import _message as message

    return message(error)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _size(number: int) -> str:
    """``getSizeString``: thousands separated by commas (``20,971,520``)."""
    return f"{number:,}"


def _path_error(op: str, path: str, error: OSError) -> str:
    """Go's ``*PathError`` text: ``stat missing.txt: no such file or directory``."""
    reason = error.strerror or str(error)
    return f"{op} {path}: {reason[:1].lower()}{reason[1:]}"


def _go_clean(path: str) -> str:
    """``filepath.Join(dir, name)`` as ossutil names the file in ``File=...``."""
    cleaned = os.path.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


def _mkdir_all(path: str) -> None:
    """Go's ``os.MkdirAll(path, 0755)`` with its error text (``mkdir P: not a directory``)."""
    path = path.rstrip("/") or "/"
    if os.path.isdir(path):
        return
    if os.path.lexists(path):
        raise CliError(f"mkdir {path}: not a directory")
    parent = os.path.dirname(path)
    if parent and parent != path:
        _mkdir_all(parent)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        if not os.path.isdir(path):
            raise CliError(f"mkdir {path}: not a directory") from None
    except OSError as error:
        raise CliError(_path_error("mkdir", path, error)) from error
