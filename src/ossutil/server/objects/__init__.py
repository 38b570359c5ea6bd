"""Objects: content in blob files under the data dir, metadata rows in the store.

    blobs.py        FileBlobStore: temp file -> fsync -> rename into place; open; delete
    service.py      ObjectService: put (streamed), read, delete, list; no HTTP, no SQL
    listing.py      prefix / delimiter / marker paging over the store's key order
    ranges.py       the Range header rules (one range; bytes=a-b, a-, -n)
    preconditions.py  If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since
"""
