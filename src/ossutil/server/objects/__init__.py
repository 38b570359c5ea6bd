"""Objects: content in a blob store, metadata rows in the store (the ``BlobStore`` protocol and
its implementations, files and PostgreSQL chunks, are in ``storage/``).

    service.py      ObjectService: put (streamed), read, delete, list; no HTTP, no SQL
    multipart.py    MultipartService: parts as blobs; complete streams them into one new blob
    listing.py      prefix / delimiter / marker paging over the store's key order
    ranges.py       the Range header rules (one range; bytes=a-b, a-, -n)
    preconditions.py  If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since
"""
