"""Every ossutil 1.7.19 option: names, internal name, type, range, and our one-line help.

The internal names are what ossutil prints in its messages (``the command does not support
option: "retryTimes"``) and what its config file accepts as keys, so a command line written for
ossutil means the same here. An option this clone does not implement is still *known*: it parses
as in ossutil and is then refused with ossutil's own "does not support option" error.

An option ossutil 1.7 does not have goes in ``BEYOND_OPTIONS`` instead (see there): adding it to
``OPTIONS`` would change 1.7's usage dump and prefix matching.
"""

from __future__ import annotations

MAX_INT64 = 2**63 - 1


class Kind:
    """Option kinds (plain strings: no ``enum`` import on the start-up path)."""

    STRING = "string"
    INT64 = "int64"
    FLAG = "flag"
    ALTERNATIVE = "alternative"  # string checked case-insensitively against ``choices``
    STRINGS = "strings"  # repeatable; every value kept


class Option:
    """One option: internal ``name`` (``accessKeyID``), ``long``/``short`` spellings, kind."""

    __slots__ = ("name", "long", "short", "kind", "help", "min_value", "max_value", "choices",
                 "default")

    def __init__(self, name: str, long: str, short: str = "", kind: str = Kind.STRING,
                 help: str = "", *, min_value: int | None = None, max_value: int | None = None,
                 choices: tuple[str, ...] = (), default: str = "") -> None:
        self.name = name  # internal name, e.g. "accessKeyID"
        self.long = long  # "--access-key-id"
        self.short = short  # "-i"
        self.kind = kind
        self.help = help
        self.min_value = min_value
        self.max_value = max_value
        self.choices = choices
        self.default = default  # shown in a command's OPTIONS section as ``--name=default``

    @property
    def takes_value(self) -> bool:
        return self.kind != Kind.FLAG

    def __repr__(self) -> str:
        return f"Option({self.name!r}, {self.long!r})"


S, N, F, A, SS = Kind.STRING, Kind.INT64, Kind.FLAG, Kind.ALTERNATIVE, Kind.STRINGS

OPTIONS: tuple[Option, ...] = (
    Option("configFile", "--config-file", "-c", S,
           "Config file to read (default ~/.ossutilconfig); the file `config` writes."),
    Option("endpoint", "--endpoint", "-e", S,
           "OSS endpoint, e.g. http://127.0.0.1:9000; overrides the config file."),
    Option("accessKeyID", "--access-key-id", "-i", S,
           "AccessKey ID; overrides the config file."),
    Option("accessKeySecret", "--access-key-secret", "-k", S,
           "AccessKey secret; overrides the config file."),
    Option("stsToken", "--sts-token", "-t", S,
           "STS security token (sent as x-oss-security-token); optional."),
    Option("limitedNum", "--limited-num", "", N, "Return at most this many results.",
           min_value=0),
    Option("marker", "--marker", "", S, "Start listing after this name."),
    Option("uploadIDMarker", "--upload-id-marker", "", S,
           "Upload-ID marker for multipart listings (not implemented here)."),
    Option("acl", "--acl", "", S, "ACL: private, public-read or public-read-write."),
    Option("shortFormat", "--short-format", "-s", F, "Print names only."),
    Option("directory", "--directory", "-d", F, "List one directory level (objects)."),
    Option("multipart", "--multipart", "-m", F, "Multipart uploads instead of objects (ls)."),
    Option("allType", "--all-type", "-a", F, "Objects and multipart uploads (ls)."),
    Option("recursive", "--recursive", "-r", F,
           "A whole directory or every object under the prefix (cp, rm)."),
    Option("bucket", "--bucket", "-b", F, "Confirm the command acts on a bucket."),
    Option("storageClass", "--storage-class", "", A,
           "Bucket storage class: Standard, IA, Archive or ColdArchive.",
           choices=("Standard", "IA", "Archive", "ColdArchive"), default="Standard"),
    Option("force", "--force", "-f", F, "Do not ask for confirmation."),
    Option("update", "--update", "-u", F, "Only newer files (not implemented here)."),
    Option("delete", "--delete", "", F, "Delete extraneous files (not implemented here)."),
    Option("outputDir", "--output-dir", "", S, "Directory for report files."),
    Option("bigfileThreshold", "--bigfile-threshold", "", N,
           "Resumable-transfer size threshold in bytes (not implemented here).",
           min_value=0, max_value=MAX_INT64),
    Option("partSize", "--part-size", "", N, "Multipart part size in bytes (not implemented).",
           min_value=1, max_value=MAX_INT64),
    Option("disableCRC64", "--disable-crc64", "", F, "Skip CRC64 checks."),
    Option("checkpointDir", "--checkpoint-dir", "", S, "Checkpoint directory (not implemented)."),
    Option("snapshotPath", "--snapshot-path", "", S, "Snapshot directory (not implemented)."),
    Option("retryTimes", "--retry-times", "", N,
           "Retries for commands that retry (bucket-cname never retries).",
           min_value=1, max_value=500),
    Option("routines", "--jobs", "-j", N, "Parallel file jobs (not implemented here).",
           min_value=1, max_value=10000),
    Option("parallel", "--parallel", "", N, "Parallel parts per file (not implemented).",
           min_value=1, max_value=10000),
    Option("range", "--range", "", S, "Byte range to download (not implemented)."),
    Option("encodingType", "--encoding-type", "", A, "Names are URL-encoded (value: url).",
           choices=("url",)),
    Option("include", "--include", "", S, "Only names matching this pattern."),
    Option("exclude", "--exclude", "", S, "Skip names matching this pattern."),
    Option("meta", "--meta", "", S, "Object metadata header:value#... (not implemented)."),
    Option("timeout", "--timeout", "", N, "sign: seconds the URL stays valid (default 60).",
           min_value=0, max_value=MAX_INT64, default="60"),
    Option("language", "--language", "-L", A, "Help and prompt language: CH or EN.",
           choices=("CH", "EN")),
    Option("hashType", "--type", "", A, "Hash type: crc64 or md5 (not implemented).",
           choices=("crc64", "md5")),
    Option("version", "--version", "-v", F, "Print the ossutil version this tool matches."),
    Option("payer", "--payer", "", S,
           "Request payer: requester (sign signs it into the URL; other commands refuse it)."),
    Option("loglevel", "--loglevel", "", S,
           "Write ossutil.log at this level: info or debug (default: no log)."),
    Option("maxupspeed", "--maxupspeed", "", N, "Upload speed limit in KB/s (not implemented)."),
    Option("maxdownspeed", "--maxdownspeed", "", N,
           "Download speed limit in KB/s (not implemented)."),
    Option("upload", "--upload", "", F, "probe: test uploads (not implemented)."),
    Option("download", "--download", "", F, "probe: test downloads (not implemented)."),
    Option("url", "--url", "", S, "probe: URL to test (not implemented)."),
    Option("bucketname", "--bucketname", "", S, "probe: bucket name (not implemented)."),
    Option("object", "--object", "", S, "probe: object name (not implemented)."),
    Option("addr", "--addr", "", S, "probe: network address (not implemented)."),
    Option("upmode", "--upmode", "", S, "probe: upload mode (not implemented)."),
    Option("disableEmptyReferer", "--disable-empty-referer", "", F,
           "referer: refuse requests without a Referer."),
    Option("method", "--method", "", S,
           "Operation: get, put or delete (bucket-cname, cors, referer, website)."),
    Option("origin", "--origin", "", S, "cors-options: the Origin header to send."),
    Option("partitionDownload", "--partition-download", "", S,
           "Download partition n:total (not implemented)."),
    Option("SSEAlgorithm", "--sse-algorithm", "", S,
           "Server-side encryption: KMS or AES256 (not implemented)."),
    Option("KMSMasterKeyID", "--kms-masterkey-id", "", S, "KMS key id (not implemented)."),
    Option("KMSDataEncryption", "--kms-data-encryption", "", S,
           "KMS data encryption, SM4 (not implemented)."),
    Option("acrHeaders", "--acr-headers", "", S,
           "cors-options: Access-Control-Request-Headers, comma-separated."),
    Option("acrMethod", "--acr-method", "", S,
           "cors-options: Access-Control-Request-Method (sent upper-cased)."),
    Option("versionId", "--version-id", "", S,
           "Object version id (sign signs it into the URL; other commands refuse it)."),
    Option("allVersions", "--all-versions", "", F, "All object versions (not implemented)."),
    Option("versionIdMarker", "--version-id-marker", "", S,
           "Version-id marker for listings (not implemented)."),
    Option("trafficLimit", "--trafic-limit", "", N,
           "sign: download speed limit in bit/s, signed into the URL."),
    Option("proxyHost", "--proxy-host", "", S,
           "HTTP(S) proxy URL, e.g. http://10.0.0.1:3128 (environment proxies are ignored)."),
    Option("proxyUser", "--proxy-user", "", S, "Proxy user name (Basic auth)."),
    Option("proxyPwd", "--proxy-pwd", "", S, "Proxy password (Basic auth)."),
    Option("localHost", "--local-host", "", S, "Local address to bind (not implemented)."),
    Option("enableSymlinkDir", "--enable-symlink-dir", "", F,
           "Follow symlinked directories (not implemented)."),
    Option("onlyCurrentDir", "--only-current-dir", "", F,
           "Only the top directory level (not implemented)."),
    Option("probeItem", "--probe-item", "", S, "probe: item to test (not implemented)."),
    Option("disableEncodeSlash", "--disable-encode-slash", "", F,
           "sign: keep '/' unescaped in the URL's path."),
    Option("disableDirObject", "--disable-dir-object", "", F,
           "cp: no objects for directories (not implemented)."),
    Option("redundancyType", "--redundancy-type", "", S,
           "Bucket data redundancy: LRS or ZRS."),
    Option("disableAllSymlink", "--disable-all-symlink", "", F,
           "Skip symlinks when uploading (not implemented)."),
    Option("disableIgnoreError", "--disable-ignore-error", "", F,
           "Stop batch copies at the first error (not implemented)."),
    Option("tagging", "--tagging", "", S, "Object tags TagA=A&TagB=B (not implemented)."),
    Option("startTime", "--start-time", "", N, "Start time, Unix seconds (not implemented)."),
    Option("endTime", "--end-time", "", N, "End time, Unix seconds (not implemented)."),
    Option("backupDir", "--backup-dir", "", S, "sync: backup directory (not implemented)."),
    Option("password", "--password", "-p", F,
           "Type the AccessKey secret at a prompt instead of passing it."),
    Option("blockSize", "--block-size", "-B", S, "du: size unit KB/MB/GB/TB (not implemented)."),
    Option("mode", "--mode", "", S,
           "Credential mode: AK, StsToken, RamRoleArn or EcsRamRole (default: AK)."),
    Option("ecsRoleName", "--ecs-role-name", "", S, "Role name for EcsRamRole mode."),
    Option("tokenTimeout", "--token-timeout", "", N,
           "RamRoleArn session length in seconds (default 3600)."),
    Option("ramRoleArn", "--ram-role-arn", "", S, "Role ARN for RamRoleArn mode."),
    Option("roleSessionName", "--role-session-name", "", S, "Session name for RamRoleArn mode."),
    Option("readTimeOut", "--read-timeout", "", N,
           "Seconds to wait on each socket read, response headers included (default 1200)."),
    Option("connectTimeOut", "--connect-timeout", "", N,
           "Seconds to wait for the TCP connection (default 120)."),
    Option("stsRegion", "--sts-region", "", S, "Region of the STS endpoint for RamRoleArn."),
    Option("skipVerifyCert", "--skip-verify-cert", "", F,
           "Do not verify the server's TLS certificate."),
    Option("item", "--item", "", S, "Sub-resource: token or certificate (bucket-cname)."),
    Option("userAgent", "--ua", "", S, "Text appended to the User-Agent header."),
    Option("objectFile", "--object-file", "", S, "File listing object names (not implemented)."),
    Option("signVersion", "--sign-version", "", S,
           "Signature version: v1 (default), v2 or v4 (v4 needs --region)."),
    Option("region", "--region", "", S,
           "Region id, e.g. cn-hangzhou; required with --sign-version v4."),
    Option("cloudBoxID", "--cloudbox-id", "", S, "CloudBox id (V4 scope oss-cloudbox)."),
    Option("queryParam", "--query-param", "", SS,
           "sign: extra query parameter name:value (repeatable)."),
    Option("forcePathStyle", "--force-path-style", "", F,
           "Address buckets as http://endpoint/bucket/ instead of bucket.endpoint."),
    Option("runtime", "--runtime", "", N, "Maximum run time in seconds (not implemented)."),
)

# Beyond ossutil 1.7: options ossutil 1.7.19 does not have. They are kept out of ``OPTIONS`` so
# that everything 1.7 prints from that table stays byte-identical: goopt's usage dump (``-h``, a
# bad flag), ``--list-options``, ``--create-manpage``, and the unique-prefix resolution of 1.7's
# long names (``--che`` still means ``--checkpoint-dir``). ``goopt.parse`` accepts these only
# spelled in full, and only when the word matches no 1.7 option. A command lists the ones it
# accepts next to its 1.7 ``valid_options``; ``help_text`` documents them in a section of their
# own. ``-f/--force`` is reused from 1.7 rather than added here.
BEYOND_OPTIONS: tuple[Option, ...] = (
    Option("checkDns", "--check-dns", "", F,
           "Before PutCname, look up TXT _dnsauth.DOMAIN; bind only if it holds the token."),
    Option("dnsServer", "--dns-server", "", SS,
           "DNS server for --check-dns, IP or IP:PORT (repeatable; default: the system's)."),
    Option("certFile", "--cert-file", "", S,
           "PEM certificate (chain, leaf first) to attach to DOMAIN; checked locally."),
    Option("keyFile", "--key-file", "", S,
           "PEM private key of --cert-file (unencrypted)."),
    Option("previousCertId", "--previous-cert-id", "", S,
           "CertId of the certificate being replaced (see ListCname)."),
    Option("errorsToStderr", "--errors-to-stderr", "", F,
           'Write the "Error: ..." line to stderr instead of stdout (any command).'),
    Option("profile", "--profile", "", S,
           "Read credentials from the config file's [profile NAME] section (any command)."),
)

# Beyond options every command accepts (the others belong to one command's spec).
GLOBAL_BEYOND_OPTIONS: tuple[str, ...] = ("errorsToStderr", "profile")

BY_NAME: dict[str, Option] = {option.name: option for option in (*OPTIONS, *BEYOND_OPTIONS)}

# The options every networked command shares (credentials, endpoint, transport, signing).
COMMON_OPTIONS: tuple[str, ...] = (
    "configFile", "endpoint", "accessKeyID", "accessKeySecret", "stsToken", "proxyHost",
    "proxyUser", "proxyPwd", "loglevel", "password", "mode", "ecsRoleName", "tokenTimeout",
    "ramRoleArn", "roleSessionName", "readTimeOut", "connectTimeOut", "stsRegion",
    "skipVerifyCert", "userAgent", "signVersion", "region", "cloudBoxID", "forcePathStyle",
)
