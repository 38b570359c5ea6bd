"""Objects: content in a blob store, metadata rows in the store.

    blobs.py        BlobStore protocol; FileBlobStore: temp file -> fsync -> rename into place
    postgres_blobs.py  PostgresBlobStore: 1 MiB chunks in PostgreSQL (--store postgres)
    service.py      ObjectService: put (streamed), read, delete, list; no HTTP, no SQL
    multipart.py    MultipartService: parts as blobs; complete streams them into one new blob
    listing.py      prefix / delimiter / marker paging over the store's key order
    ranges.py       the Range header rules (one range; bytes=a-b, a-, -n)
    preconditions.py  If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since
"""
