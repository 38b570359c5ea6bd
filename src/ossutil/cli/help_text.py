"""Help prose, laid out as ossutil 1.7 lays it out (reference §12); the words are our own.

``whole_help`` is ``ossutil`` / ``ossutil help``; ``command_help`` is ``ossutil help <command>``:
SYNOPSIS, SYNTAX, DETAIL DESCRIPTION, SAMPLE, OPTIONS, each heading alone on a line, bodies
indented four spaces, every option as ``    -c, --config-file`` plus its text indented eight.
Texts exist in English and, for ``bucket-cname``, Chinese (``-L CH``); other commands fall back to
English.
"""

from __future__ import annotations

from collections.abc import Sequence

from ossutil.cli.options import BY_NAME, Option

TAB = "    "


class SpecText:
    """A command's help sections (ossutil's ``SpecText``)."""

    def __init__(self, synopsis: str, syntax: str = "", detail: str = "",
                 sample: str = "", beyond: str = "",
                 beyond_options: tuple[str, ...] = ()) -> None:
        self.synopsis = synopsis
        self.syntax = syntax
        self.detail = detail
        self.sample = sample
        # "BEYOND OSSUTIL 1.7": what this clone adds, after OPTIONS so 1.7's sections stay as
        # they were; ``beyond_options`` are internal names from ``options.BEYOND_OPTIONS``.
        self.beyond = beyond
        self.beyond_options = beyond_options


BUCKET_CNAME_EN = SpecText(
    synopsis="Bind custom domains to a bucket and manage their tokens and certificates",
    syntax="""
    ossutil bucket-cname --method put --item token oss://bucket domain [local_xml_file] [options]
    ossutil bucket-cname --method get --item token oss://bucket domain [local_xml_file] [options]
    ossutil bucket-cname --method put oss://bucket domain [options]
    ossutil bucket-cname --method put --item certificate oss://bucket local_xml_file [options]
    ossutil bucket-cname --method delete oss://bucket domain [options]
    ossutil bucket-cname --method get oss://bucket [local_xml_file] [options]
""",
    detail="""
    A custom domain (CNAME) serves a bucket under your own host name. OSS binds a domain only
    after you prove you own it: ask for a token, publish it as the TXT record
    _dnsauth.<domain>, then bind. --method chooses the action (get, put or delete, any case);
    --item chooses what it acts on (token or certificate, lower case); without --item the
    command acts on the bindings themselves.

Usage:
    The command has six forms:

    1) ossutil bucket-cname --method put --item token oss://bucket domain [local_xml_file]
       Creates the ownership token for domain (CreateCnameToken). Asking again while the
       token is valid returns the same token. The reply is printed as XML (Bucket, Cname,
       Token, ExpireTime), or written to local_xml_file when one is named.

    2) ossutil bucket-cname --method get --item token oss://bucket domain [local_xml_file]
       Reads the token created earlier (GetCnameToken); output as in form 1.

    3) ossutil bucket-cname --method put oss://bucket domain
       Binds domain to the bucket (PutCname). OSS answers NeedVerifyDomainOwnership until the
       TXT record _dnsauth.<domain> holds the token.

    4) ossutil bucket-cname --method put --item certificate oss://bucket local_xml_file
       Sends local_xml_file unchanged as the PutCname body, to attach, replace or remove the
       HTTPS certificate of a bound domain. The file is not checked here; the server judges
       it. To replace a certificate name the current one in PreviousCertId, or set Force to
       true. An upload with the PEM texts inline:

       <?xml version="1.0" encoding="UTF-8"?>
       <BucketCnameConfiguration>
         <Cname>
           <Domain>www.example.com</Domain>
           <CertificateConfiguration>
             <CertId>1234567-cn-hangzhou</CertId>
             <Certificate>-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----</Certificate>
             <PrivateKey>-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----</PrivateKey>
             <PreviousCertId>7654321-cn-hangzhou</PreviousCertId>
             <Force>true</Force>
           </CertificateConfiguration>
         </Cname>
       </BucketCnameConfiguration>

       Removing the certificate (the binding stays):

       <?xml version="1.0" encoding="UTF-8"?>
       <BucketCnameConfiguration>
         <Cname>
           <Domain>www.example.com</Domain>
           <CertificateConfiguration>
             <DeleteCertificate>true</DeleteCertificate>
           </CertificateConfiguration>
         </Cname>
       </BucketCnameConfiguration>

    5) ossutil bucket-cname --method get oss://bucket [local_xml_file]
       Lists the bucket's bindings (ListCname): the server's XML exactly as received, on
       stdout or in local_xml_file.

    6) ossutil bucket-cname --method delete oss://bucket domain
       Unbinds domain (DeleteCname); unbinding a domain that is not bound also succeeds.

    An existing local_xml_file is replaced only after you answer y or yes to the question
    "overwrite ...(y or N)?"; any other answer leaves it untouched. The request is made first,
    so a created token exists even when you decline.
""",
    sample="""
    1) create a token and print it
       ossutil bucket-cname --method put --item token oss://examplebucket www.example.com

    2) create a token and save it in token.xml
       ossutil bucket-cname --method put --item token oss://examplebucket www.example.com token.xml

    3) print the token created earlier
       ossutil bucket-cname --method get --item token oss://examplebucket www.example.com

    4) save the token created earlier in token.xml
       ossutil bucket-cname --method get --item token oss://examplebucket www.example.com token.xml

    5) bind the domain once the TXT record is published
       ossutil bucket-cname --method put oss://examplebucket www.example.com

    6) attach, replace or remove a certificate described in cert.xml
       ossutil bucket-cname --method put --item certificate oss://examplebucket cert.xml

    7) list the bindings, on stdout and into cname.xml
       ossutil bucket-cname --method get oss://examplebucket
       ossutil bucket-cname --method get oss://examplebucket cname.xml

    8) unbind the domain
       ossutil bucket-cname --method delete oss://examplebucket www.example.com
""",
    beyond="""
    Additions that ossutil 1.7 does not have; without them every command line above prints
    and sends exactly what ossutil 1.7 does. stdout keeps ossutil's format (one "Error: ..."
    line, exit status 1); advice for people (the TXT record to publish) goes to stderr.

    ossutil bucket-cname --method put oss://bucket domain --check-dns [--dns-server IP[:PORT]]
       Before binding, reads the token (GetCnameToken) and looks up the TXT record
       _dnsauth.<domain> (CNAMEs followed, multi-string records joined, any record may
       match). If no token exists, or the record is missing, different or the lookup fails,
       nothing is sent: the error says why and stderr shows the record to add and when the
       token expires.

    ossutil bucket-cname --method put --item certificate oss://bucket domain
           --cert-file cert.pem --key-file key.pem [--previous-cert-id ID] [-f]
       Builds the PutCname body from two PEM files instead of an XML file, after checking
       locally that they parse, that the key belongs to the certificate, that the certificate
       covers domain (wildcards per RFC 6125) and that it is valid today. Replacing a
       certificate needs --previous-cert-id with the CertId shown by --method get, or -f
       (--force) to replace whatever is there.

    When OSS refuses a plain bind with NeedVerifyDomainOwnership and stderr is a terminal,
    stderr also names the TXT record to publish, with the token's value.

    --errors-to-stderr (any command) writes the "Error: ..." line to stderr instead of
    stdout, for scripts that read stdout; the exit status is 1 as before.
""",
    beyond_options=("checkDns", "dnsServer", "certFile", "keyFile", "previousCertId",
                    "errorsToStderr"),
)

BUCKET_CNAME_CH = SpecText(
    synopsis="为bucket绑定自定义域名，管理域名所有权令牌与证书",
    syntax=BUCKET_CNAME_EN.syntax,
    detail="""
    自定义域名（CNAME）让bucket通过您自己的主机名对外服务。OSS在您证明拥有域名后才允许绑定：
    先申请令牌，把令牌发布为TXT记录 _dnsauth.<域名>，再执行绑定。--method 选择操作
    （get、put 或 delete，不区分大小写）；--item 选择操作对象（token 或 certificate，须小写），
    不带 --item 时操作域名绑定本身。

用法:
    该命令有六种用法:

    1) ossutil bucket-cname --method put --item token oss://bucket domain [local_xml_file]
       为域名创建所有权令牌（CreateCnameToken）。令牌有效期内重复申请得到同一个令牌。
       结果以XML输出到屏幕，指定 local_xml_file 时写入该文件。

    2) ossutil bucket-cname --method get --item token oss://bucket domain [local_xml_file]
       查询已创建的令牌（GetCnameToken），输出方式同用法1。

    3) ossutil bucket-cname --method put oss://bucket domain
       把域名绑定到bucket（PutCname）。TXT记录生效前OSS返回 NeedVerifyDomainOwnership。

    4) ossutil bucket-cname --method put --item certificate oss://bucket local_xml_file
       把 local_xml_file 原样作为 PutCname 请求体发送，用于为已绑定的域名添加、替换或删除
       HTTPS证书。本地不检查文件内容。替换证书时在 PreviousCertId 中给出当前证书，或把
       Force 设为 true。文件示例见英文帮助（ossutil help bucket-cname -L EN）。

    5) ossutil bucket-cname --method get oss://bucket [local_xml_file]
       查询bucket的域名绑定（ListCname），原样输出服务端返回的XML，或写入 local_xml_file。

    6) ossutil bucket-cname --method delete oss://bucket domain
       解除域名绑定（DeleteCname）；解除未绑定的域名同样返回成功。

    local_xml_file 已存在时，只有回答 y 或 yes 才会覆盖。请求总是先发送。
""",
    sample=BUCKET_CNAME_EN.sample,
    beyond="""
    以下为 ossutil 1.7 没有的扩展；不使用它们时，上述命令的输出与请求与 ossutil 1.7 完全一致。
    stdout 保持 ossutil 的格式（一行 "Error: ..."，退出码 1）；给人看的提示写到 stderr。

    ossutil bucket-cname --method put oss://bucket domain --check-dns [--dns-server IP[:PORT]]
       绑定前先读取令牌（GetCnameToken）并查询TXT记录 _dnsauth.<域名>（跟随CNAME，多段
       字符串拼接，任一记录匹配即可）。没有令牌、记录缺失或不符、查询失败时不发送请求，
       错误说明原因，stderr 给出应添加的记录及令牌过期时间。

    ossutil bucket-cname --method put --item certificate oss://bucket domain
           --cert-file cert.pem --key-file key.pem [--previous-cert-id ID] [-f]
       由两个PEM文件生成 PutCname 请求体，并先在本地检查：能否解析、私钥与证书是否匹配、
       证书是否覆盖该域名（通配符按 RFC 6125）、当前是否在有效期内。替换证书时用
       --previous-cert-id 给出 --method get 显示的 CertId，或用 -f（--force）直接替换。

    普通绑定被 OSS 以 NeedVerifyDomainOwnership 拒绝且 stderr 是终端时，stderr 会提示
    应发布的TXT记录及令牌值。
""",
    beyond_options=BUCKET_CNAME_EN.beyond_options,
)

MB_EN = SpecText(
    synopsis="Make a bucket",
    syntax="""
    ossutil mb oss://bucket [--acl acl] [--storage-class class] [--redundancy-type type] [-c file]
""",
    detail="""
    Creates the bucket named in the URL on the endpoint of your configuration (PutBucket).
    --acl sets its access: private (the default), public-read or public-read-write.
    --storage-class picks Standard (the default), IA, Archive or ColdArchive, and
    --redundancy-type LRS (the default) or ZRS.
""",
    sample="""
    1) a private bucket
       ossutil mb oss://examplebucket

    2) a bucket anyone may read
       ossutil mb oss://examplebucket --acl public-read
""",
)

LS_EN = SpecText(
    synopsis="List buckets or objects",
    syntax="""
    ossutil ls [oss://] [-s] [--limited-num n] [--marker name] [-c file]
    ossutil ls oss://bucket[/prefix] [-s] [-d] [-m|-a] [--limited-num n] [--marker key]
               [--upload-id-marker id] [-c file]
""",
    detail="""
    Without a bucket, lists the buckets your credentials own, with creation time, location and
    storage class, then their number.

    With oss://bucket[/prefix], lists the objects whose names start with prefix: last-modified
    time, size, storage class, ETag and URL, then their number. -s prints the URLs only. -d
    lists one level: the objects directly under prefix, then each "directory" (the common
    prefixes up to the next /). -m lists the multipart uploads in progress instead (time they
    started, upload id, object), -a lists objects and then uploads. --limited-num stops after
    n entries in all; --marker starts after the given key (and --upload-id-marker after that
    upload of it). --include and --exclude are not supported.
""",
    sample="""
    1) ossutil ls
    2) ossutil ls -s
    3) ossutil ls oss://examplebucket
    4) ossutil ls oss://examplebucket/photos/ -d
""",
)

STAT_EN = SpecText(
    synopsis="Display meta information of a bucket or an object",
    syntax="""
    ossutil stat oss://bucket[/object] [-c file]
""",
    detail="""
    For a bucket, shows what GetBucketInfo reports: name, region, creation time, endpoints,
    ACL, owner, storage class and the bucket's features. For an object, shows its ACL and owner
    (GetObjectAcl) and every header HeadObject returns (size, type, ETag, last-modified time,
    user metadata x-oss-meta-*, ...), sorted by name.
""",
    sample="""
    1) ossutil stat oss://examplebucket
    2) ossutil stat oss://examplebucket/photos/cat.jpg
""",
)

SIGN_EN = SpecText(
    synopsis="Generate download link for object",
    syntax="""
    ossutil sign oss://bucket/object [--timeout t] [--version-id versionId]
        [--trafic-limit limitSpeed] [--disable-encode-slash] [--payer requester]
        [--query-param key:value] [--sign-version v1|v2|v4 [--region region]] [-c file]
""",
    detail="""
    Prints a presigned GET URL for the object, valid for --timeout seconds (default 60), that
    anyone can use without credentials. Nothing is sent: the signature is computed locally
    with the configured AccessKey (an STS token goes into the URL as security-token, or
    x-oss-security-token with V4). V1 URLs carry Expires (absolute Unix time),
    OSSAccessKeyId and Signature; --sign-version v4 (with --region) carries
    x-oss-signature-version, x-oss-credential, x-oss-date, x-oss-expires and
    x-oss-signature. --version-id, --trafic-limit (bit/s), --payer requester and each
    --query-param name:value (repeatable; x-oss-process:... for image processing) become
    signed query parameters. The object name is escaped whole ('/' becomes %2F) unless
    --disable-encode-slash; with --encoding-type url, give the name URL-encoded.
""",
    sample="""
    1) ossutil sign oss://examplebucket/photos/cat.jpg
    2) ossutil sign oss://examplebucket/photos/cat.jpg --timeout 3600 --disable-encode-slash
    3) ossutil sign oss://examplebucket/cat.jpg --query-param x-oss-process:image/resize,w_100
    4) ossutil sign oss://examplebucket/cat.jpg --sign-version v4 --region cn-hangzhou
""",
)

RM_EN = SpecText(
    synopsis="Remove an object, the objects under a prefix, or a bucket",
    syntax="""
    ossutil rm oss://bucket/object [-c file]
    ossutil rm oss://bucket[/prefix] -r [-f] [-c file]
    ossutil rm oss://bucket -b [-f] [-c file]
    ossutil rm oss://bucket -r -b [-f] [-c file]
""",
    detail="""
    Without options, removes one object (removing an object that does not exist is not an
    error: it reports 0 objects). With -r, removes every object whose name starts with the
    prefix (the whole bucket for oss://bucket), after asking unless -f is given. With -b,
    removes the bucket itself, which must be empty, after asking unless -f; -r -b empties it
    first. Multipart uploads (-a, -m), --include and --exclude are not supported.
""",
    sample="""
    1) ossutil rm oss://examplebucket/hello.txt
    2) ossutil rm oss://examplebucket/logs/ -r -f
    3) ossutil rm oss://examplebucket -r -b -f
""",
)

CONFIG_EN = SpecText(
    synopsis="Write the config file with your endpoint and credentials",
    syntax="""
    ossutil config [-e endpoint] [-i id] [-k secret] [-t token] [-L CH|EN] [-c file]
""",
    detail="""
    Without -e, -i, -k, -t or --output-dir the command asks for the file name (unless -c is
    given), the language (for a new file), then endpoint, AccessKey ID, AccessKey secret and
    STS token; an empty answer leaves a setting out. With any of those options it writes them
    without asking. An existing file is kept as <file>.bak.

    The file is written with mode 0600 (readable by you only) - unlike ossutil 1.7, which
    leaves it readable by others. Other commands read it from ~/.ossutilconfig, or from the
    file named with -c. Options given on a command line always win over the file; environment
    variables are not read.

    The file is INI-like, for example:

        [Credentials]
        language=EN
        endpoint=http://127.0.0.1:9000
        accessKeyID=<your id>
        accessKeySecret=<your secret>

    Keys named like an option's internal name are honoured too (region=cn-hangzhou,
    signVersion=v4). A [Bucket-Endpoint] section maps a bucket to its own endpoint, and a
    [Bucket-Cname] section maps a bucket to a custom domain that is then used as the host.
""",
    sample="""
    1) answer the questions
       ossutil config

    2) write a config without questions
       ossutil config -e http://127.0.0.1:9000 -i <id> -k <secret> -c ~/.ossutilconfig
""",
)

CP_EN = SpecText(
    synopsis="Upload a file, download an object, or copy an object",
    syntax="""
    ossutil cp file_url cloud_url [-r] [-f] [-c file]
    ossutil cp cloud_url file_url [-r] [-f] [-c file]
    ossutil cp cloud_url cloud_url [-f] [-c file]
""",
    detail="""
    Copies one file to OSS (PutObject), one object to disk (GetObject), or one object to
    another name or bucket (CopyObject: the data stays in OSS, metadata is kept). Data
    streams in pieces: a file of any size is never held in memory, and a download goes to a
    temporary file next to the target that is renamed into place only when it is complete.

    Upload: oss://bucket/key names the object. When the key is empty or ends with "/", the
    file's name is appended (oss://bucket/dir/ + photo.jpg = dir/photo.jpg). The object's
    Content-Type follows the file's extension.

    Download: the file is written at the given path; when that path is a directory, or ends
    with "/", the object's last name component is used inside it (missing directories are
    created).

    Copy: as for an upload, a target key that is empty or ends with "/" gets the source
    object's last name component appended.

    -r (--recursive) uploads a directory: every file as <prefix>/<its path inside the
    directory>, every directory as an empty <path>/ object (the directory's own name is not
    used). Or it downloads every object whose name starts with the given prefix, at its name
    relative to the prefix's last "/" (oss://b/site keeps site/, oss://b/site/ does not);
    <path>/ objects become directories. Each existing target is asked about, as above.

    When the target already exists, cp asks 'cp: overwrite "<target>"(y or N)?' and only y or
    yes overwrites; any other answer skips it (the command still succeeds). -f (--force)
    overwrites without asking.

    The report is ossutil's: a line with the number and size of what was done, the average
    speed, then the elapsed time. The options that change what is copied or how it is named
    (--update, --include, --meta, ...) are not supported by this tool and are refused; options
    that only tune ossutil's transfers (--part-size, --bigfile-threshold, -j, --parallel,
    --checkpoint-dir, --retry-times) are accepted and have no effect.
""",
    sample="""
    1) upload a file as oss://examplebucket/index.html
       ossutil cp index.html oss://examplebucket/

    2) upload under another name, overwriting without asking
       ossutil cp ./site/index.html oss://examplebucket/www/home.html -f

    3) download into the current directory
       ossutil cp oss://examplebucket/www/home.html .

    4) download to a chosen file name
       ossutil cp oss://examplebucket/www/home.html /tmp/home.html

    5) copy an object into another bucket, keeping its name
       ossutil cp oss://examplebucket/www/home.html oss://backupbucket/www/

    6) publish a site directory, then fetch it all back
       ossutil cp ./site oss://examplebucket/www -r
       ossutil cp oss://examplebucket/www/ ./copy -r
""",
)

HELP_EN = SpecText(
    synopsis="Show help for a command",
    syntax="""
    ossutil help [command]
""",
    detail="""
    Without a command, lists the commands; with one, shows its help.
""",
    sample="""
    1) ossutil help
    2) ossutil help bucket-cname
""",
)

WEBSITE_EN = SpecText(
    synopsis="Set, get or delete the static website configuration of a bucket",
    syntax="""
    ossutil website --method put oss://bucket local_xml_file [options]
    ossutil website --method get oss://bucket [local_xml_file] [options]
    ossutil website --method delete oss://bucket [options]
""",
    detail="""
    A bucket with a website configuration serves a site on its bound domains: the index
    document for / and for names ending in /, the error document (with its status) for a
    missing page. --method chooses the action (put, get or delete, any case).

Usage:
    1) ossutil website --method put oss://bucket local_xml_file
       Sends local_xml_file unchanged as the configuration (PutBucketWebsite); the server
       checks it. A small one:

       <?xml version="1.0" encoding="UTF-8"?>
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

    2) ossutil website --method get oss://bucket [local_xml_file]
       Prints the configuration exactly as the server returns it (GetBucketWebsite), or
       writes it to local_xml_file; an existing file is replaced only after you answer y or
       yes. A bucket without one answers NoSuchWebsiteConfiguration.

    3) ossutil website --method delete oss://bucket
       Removes the configuration (DeleteBucketWebsite); the bucket stops serving a site.
""",
    sample="""
    1) ossutil website --method put oss://examplebucket website.xml
    2) ossutil website --method get oss://examplebucket
    3) ossutil website --method get oss://examplebucket website.xml
    4) ossutil website --method delete oss://examplebucket
""",
)

CORS_EN = SpecText(
    synopsis="Set, get or delete the CORS rules of a bucket",
    syntax="""
    ossutil cors --method put oss://bucket local_xml_file [options]
    ossutil cors --method get oss://bucket [local_xml_file] [options]
    ossutil cors --method delete oss://bucket [options]
""",
    detail="""
    CORS rules say which web pages (origins) a browser lets read the bucket's objects, with
    which methods and headers. --method chooses the action (put, get or delete, any case).

Usage:
    1) ossutil cors --method put oss://bucket local_xml_file
       Reads the rules from local_xml_file and sets them (PutBucketCors), replacing any
       earlier ones. Each CORSRule takes AllowedOrigin and AllowedMethod (one or more),
       AllowedHeader and ExposeHeader (any number) and MaxAgeSeconds. Only the rules are
       sent, as ossutil 1.7 does: ResponseVary and unknown elements are left out, and
       MaxAgeSeconds is sent as 0 when absent. For example:

       <?xml version="1.0" encoding="UTF-8"?>
       <CORSConfiguration>
         <CORSRule>
           <AllowedOrigin>https://www.example.com</AllowedOrigin>
           <AllowedMethod>GET</AllowedMethod>
           <AllowedMethod>PUT</AllowedMethod>
           <AllowedHeader>*</AllowedHeader>
           <ExposeHeader>ETag</ExposeHeader>
           <MaxAgeSeconds>600</MaxAgeSeconds>
         </CORSRule>
       </CORSConfiguration>

    2) ossutil cors --method get oss://bucket [local_xml_file]
       Prints the rules (GetBucketCors), re-indented, or writes them to local_xml_file; an
       existing file is replaced only after you answer y or yes. A bucket without rules
       answers NoSuchCORSConfiguration.

    3) ossutil cors --method delete oss://bucket
       Removes every rule (DeleteBucketCors).

    As in ossutil 1.7, a failure after the bucket URL is read is printed twice: first as
    "error:<message>", then as "Error: <message>".
""",
    sample="""
    1) ossutil cors --method put oss://examplebucket cors.xml
    2) ossutil cors --method get oss://examplebucket
    3) ossutil cors --method get oss://examplebucket cors.xml
    4) ossutil cors --method delete oss://examplebucket
""",
)

REFERER_EN = SpecText(
    synopsis="Set, get or delete the Referer whitelist of a bucket",
    syntax="""
    ossutil referer --method put oss://bucket referer... [--disable-empty-referer] [options]
    ossutil referer --method get oss://bucket [local_xml_file] [options]
    ossutil referer --method delete oss://bucket [options]
""",
    detail="""
    Hotlink protection: once a bucket has a whitelist, anonymous and presigned reads are
    served only to requests whose Referer matches one of its entries (* matches any run of
    characters, ? one character). --method chooses the action (put, get or delete, any case).

Usage:
    1) ossutil referer --method put oss://bucket referer...
       Sets the whitelist to the referers given (PutBucketReferer), replacing the old one.
       Requests without a Referer stay allowed unless --disable-empty-referer is given.

    2) ossutil referer --method get oss://bucket [local_xml_file]
       Prints the configuration (GetBucketReferer), re-indented as ossutil 1.7 prints it:
       AllowEmptyReferer, AllowTruncateQueryString when set, the whitelist and any blacklist
       (TruncatePath is not shown). local_xml_file receives it instead of stdout; an existing
       file is replaced only after you answer y or yes.

    3) ossutil referer --method delete oss://bucket
       Empties the whitelist and allows empty Referers again: hotlink protection is off.
""",
    sample="""
    1) ossutil referer --method put oss://examplebucket https://www.example.com \\
           "https://*.example.com"
    2) ossutil referer --method put oss://examplebucket https://www.example.com \\
           --disable-empty-referer
    3) ossutil referer --method get oss://examplebucket
    4) ossutil referer --method delete oss://examplebucket
""",
)

CORS_OPTIONS_EN = SpecText(
    synopsis="Send a CORS preflight (OPTIONS) request and show the reply",
    syntax="""
    ossutil cors-options oss://bucket[/object] [--origin origin] [--acr-method method]
        [--acr-headers header1,header2] [options]
""",
    detail="""
    Asks the bucket what a browser would be told before a cross-origin request: sends OPTIONS
    for the object with Origin (--origin), Access-Control-Request-Method (--acr-method, sent in
    upper case) and Access-Control-Request-Headers (--acr-headers, comma-separated), each only
    when given. When a CORS rule allows it, the reply's headers are printed, one per line and
    sorted (Access-Control-Allow-Origin, -Allow-Methods, -Allow-Headers, -Expose-Headers,
    -Max-Age, Vary ...), without Connection, Content-Length, Date, Server, X-Oss-Request-Id
    and X-Oss-Server-Time. When none allows it the server answers 403 AccessForbidden, shown
    as an error. With --encoding-type url, give the object name URL-encoded.
""",
    sample="""
    1) ossutil cors-options oss://examplebucket/index.html --origin https://www.example.com \\
           --acr-method GET
    2) ossutil cors-options oss://examplebucket/ --origin https://www.example.com \\
           --acr-method PUT --acr-headers "x-oss-meta-a,content-type"
""",
)

SPECS: dict[str, dict[str, SpecText]] = {
    "bucket-cname": {"EN": BUCKET_CNAME_EN, "CH": BUCKET_CNAME_CH},
    "mb": {"EN": MB_EN},
    "ls": {"EN": LS_EN},
    "cp": {"EN": CP_EN},
    "stat": {"EN": STAT_EN},
    "rm": {"EN": RM_EN},
    "sign": {"EN": SIGN_EN},
    "config": {"EN": CONFIG_EN},
    "help": {"EN": HELP_EN},
    "website": {"EN": WEBSITE_EN},
    "cors": {"EN": CORS_EN},
    "referer": {"EN": REFERER_EN},
    "cors-options": {"EN": CORS_OPTIONS_EN},
}

SYNOPSES_CH = {
    "mb": "创建bucket",
    "ls": "列举bucket或object",
    "cp": "上传文件、下载或拷贝object",
    "stat": "显示bucket或object的元信息",
    "rm": "删除object、前缀下的object或bucket",
    "sign": "生成object的下载链接",
    "bucket-cname": BUCKET_CNAME_CH.synopsis,
    "help": "查看命令帮助",
    "config": "写入保存endpoint与访问凭证的配置文件",
    "website": "设置、查询或删除bucket的静态网站配置",
    "cors": "设置、查询或删除bucket的CORS规则",
    "referer": "设置、查询或删除bucket的Referer白名单",
    "cors-options": "发送CORS预检(OPTIONS)请求并显示响应",
    "doctor": "检查自定义域名: CNAME、_dnsauth令牌、CAA与所提供的证书",
    "api": "ossutil 2.0 风格的API命令 (create-cname-token, put-bucket-website ...)",
}


def spec_for(command: str, language: str) -> SpecText:
    texts = SPECS[command]
    return texts.get(language, texts["EN"])


def format_option(option: Option) -> str:
    names = option.short
    if option.short and option.default:
        names += " " + option.default
    if option.short:
        names += ", "
    names += option.long + (f"={option.default}" if option.default else "")
    return f"{TAB}{names}\n{TAB}{TAB}{option.help}\n\n"


def command_help(command: str, valid_options: Sequence[str], language: str) -> str:
    """``ossutil help <command>`` (ends with the blank lines ossutil prints)."""
    spec = spec_for(command, language)
    text = f"SYNOPSIS\n\n{TAB}{spec.synopsis.strip()}\n"
    if spec.syntax:
        text += f"\nSYNTAX\n\n{TAB}{spec.syntax.strip()}\n"
    if spec.detail:
        text += f"\nDETAIL DESCRIPTION\n\n{TAB}{spec.detail.strip()}\n"
    if spec.sample:
        text += f"\nSAMPLE\n\n{TAB}{spec.sample.strip()}\n"
    if valid_options:
        body = "".join(format_option(BY_NAME[name]) for name in valid_options)
        text += f"\nOPTIONS\n\n{body}\n"
    if spec.beyond:
        body = "".join(format_option(BY_NAME[name]) for name in spec.beyond_options)
        text += f"\nBEYOND OSSUTIL 1.7\n\n{TAB}{spec.beyond.strip()}\n\n{body}\n"
    return text + "\n"


def whole_help(commands: Sequence[tuple[str, str, str, str]], language: str) -> str:
    """``ossutil`` / ``ossutil help``: (name, group, params, synopsis) in table order."""
    if language == "CH":
        text = ("用法: ossutil [command] [args...] [options...]\n"
                "运行 ossutil help <command> 查看单个命令的帮助\n")
    else:
        text = ("Usage: ossutil [command] [args...] [options...]\n"
                "Run 'ossutil help <command>' for the help of one command\n")
    for group in ("Commands", "Additional Commands", "Deprecated Commands", "API Commands"):
        entries = [c for c in commands if c[1] == group]
        if not entries:
            continue
        text += f"\n{group}:\n"
        for name, _, params, synopsis in entries:
            if language == "CH":
                synopsis = SYNOPSES_CH.get(name, synopsis)
            text += f"  {name:<18}{params}\n{TAB}{TAB}{synopsis}\n"
    return text + "\n"


# --- ossutil 2.0's ``api`` command (cli/api_cmd.py); listed last in the whole-tool help ---------

API_EN = SpecText(
    synopsis="ossutil 2.0 API-level commands: custom domains (CNAME), website, CORS, Referer",
    syntax="""
    ossutil api create-cname-token --bucket B (--cname-configuration CFG | --cname DOMAIN)
    ossutil api get-cname-token --bucket B --cname DOMAIN
    ossutil api put-cname --bucket B (--cname-configuration CFG | --cname DOMAIN)
    ossutil api list-cname --bucket B
    ossutil api delete-cname --bucket B (--cname-configuration CFG | --cname DOMAIN)
    ossutil api put-bucket-website --bucket B --website-configuration CFG
    ossutil api get-bucket-website --bucket B
    ossutil api delete-bucket-website --bucket B
    ossutil api put-bucket-cors --bucket B --cors-configuration CFG
    ossutil api get-bucket-cors --bucket B
    ossutil api delete-bucket-cors --bucket B
    ossutil api put-bucket-referer --bucket B --referer-configuration CFG
    ossutil api get-bucket-referer --bucket B
    ossutil api option-object --bucket B --key KEY [--origin O]
        [--access-control-request-method M] [--access-control-request-headers H]
    Each takes [--output-format xml|json|yaml] and the global options below.
""",
    detail="""
    One command per OSS operation, spelled as ossutil 2.0 spells them: CreateCnameToken,
    GetCnameToken, PutCname, ListCname, DeleteCname. Endpoint, credentials, config file and
    signing come from the same options and config file as bucket-cname.

    --bucket B
        The bucket (required).

    --cname DOMAIN
        The custom domain; for create/put/delete it stands for the configuration
        {"Cname":{"Domain":"DOMAIN"}}.

    --cname-configuration CFG
        A <BucketCnameConfiguration> XML document, or the same as JSON without the root, e.g.
        {"Cname":{"Domain":"www.example.com"}}; file://path reads either from a file. Use it to
        attach a certificate with put-cname (CertificateConfiguration).

    --website-configuration, --cors-configuration, --referer-configuration CFG
        The bucket's website, CORS or Referer configuration as XML (any root name) or as JSON
        without the root, e.g. {"CORSRule":[{"AllowedOrigin":["*"],"AllowedMethod":["GET"]}]};
        file://path reads either from a file.

    --key KEY, --origin O, --access-control-request-method M,
    --access-control-request-headers H
        option-object sends a CORS preflight (OPTIONS) for object KEY with these headers and
        prints the Access-Control-* and Vary headers of the reply, one "Name: value" line each
        (with --output-format: AccessControlAllowOrigin ... as fields); 403 AccessForbidden
        when no CORS rule allows it.

    --output-format xml|json|yaml
        Without it the response body is printed as OSS sent it. json and yaml convert it (the
        root element is dropped, repeated elements become lists, keys are sorted); xml prints the
        converted tree under <root>. put-cname, delete-cname and the put-bucket-* and
        delete-bucket-* operations print nothing on success.

    Errors go to stderr as "Error: ..." with exit status 1; errors returned by OSS are shown
    the way ossutil 2.0 shows them (Error Code, Request Id, Message, EC ...). No elapsed line.
""",
    sample="""
    1) ossutil api create-cname-token --bucket examplebucket --cname www.example.com
    2) ossutil api get-cname-token --bucket examplebucket --cname www.example.com \\
           --output-format json
    3) ossutil api put-cname --bucket examplebucket --cname-configuration file://cname.xml
    4) ossutil api list-cname --bucket examplebucket --output-format yaml
    5) ossutil api delete-cname --bucket examplebucket \\
           --cname-configuration '{"Cname":{"Domain":"www.example.com"}}'
""",
)
SPECS["api"] = {"EN": API_EN}

# --- ``doctor`` (cli/doctor.py), beyond 1.7 ------------------------------------------------

DOCTOR_EN = SpecText(
    synopsis="Check that a custom domain is set up right, and say what to fix",
    syntax="""
    ossutil doctor domain [--bucket B] [--json] [--dns-server IP[:PORT]]...
        [--https-port N] [--ca IDENTIFIER] [options]
""",
    detail="""
    Five checks, each printed with what was seen and, when something is wrong, the next
    step:

    cname        the domain's CNAME chain must reach <bucket>.<endpoint> (the bucket's
                 ExtranetEndpoint), or resolve to the addresses that name has
    ownership    the TXT record _dnsauth.<domain> against the bucket's CnameToken
    caa          whether the domain's CAA records let a CA issue its certificate
    binding      ListCname lists the domain
    certificate  the certificate served over TLS (SNI = the domain, port 443) against
                 ListCname's fingerprint, the names it covers, days to expiry

    --bucket B
        The bucket the domain is (to be) bound to; without it every bucket's ListCname
        is searched.

    --json
        One JSON document: domain, bucket, checks (check, status, detail, next_step),
        passed.

    --dns-server IP[:PORT]
        Ask this DNS server (repeatable) instead of the system resolver.

    --https-port N
        Connect to this port for the certificate check (default 443).

    --ca IDENTIFIER
        The CA's CAA identifier (letsencrypt.org ...): the caa check says whether it
        may issue.

    The exit status is 1 when a check failed (warnings do not fail); errors go to
    stderr as "Error: ...". Endpoint and credentials come from the same options and
    config file as bucket-cname.
""",
    sample="""
    1) ossutil doctor www.example.com --bucket examplebucket
    2) ossutil doctor www.example.com --json --ca letsencrypt.org
""",
)
SPECS["doctor"] = {"EN": DOCTOR_EN}

# --- ``completion`` (cli/completion.py), beyond 1.7 ---------------------------------------------

COMPLETION_EN = SpecText(
    synopsis="Print a bash or zsh completion script for ossutil",
    syntax="""
    ossutil completion bash|zsh
""",
    detail="""
    Prints on stdout a completion script generated from the same command and option tables
    as this help: command names, each command's options, and the values of options that have
    a fixed set (--method get|put|delete, --item, --storage-class ...). Other words complete
    as file names.
""",
    sample="""
    1) source <(ossutil completion bash)
    2) ossutil completion bash > /etc/bash_completion.d/ossutil
    3) ossutil completion zsh > "${fpath[1]}/_ossutil"
""",
)
SPECS["completion"] = {"EN": COMPLETION_EN}
