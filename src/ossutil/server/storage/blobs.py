"""Where object content lives: the ``BlobStore`` protocol ObjectService and MultipartService
use, and the ``BlobWriter`` it hands out. The implementations live beside the stores they go
with (chosen in ``settings.BLOB_STORES``), which is why the protocol is here and not in
``objects/``: storage never imports the domain.

    BlobStore (protocol)      what ObjectService needs; the store row names a blob
     ├── FileBlobStore        files in the data dir (``files.py``; the default, with SQLite)
     └── PostgresBlobStore    1 MiB chunks in PostgreSQL (``postgres_blobs.py``; --store postgres)

The life of a blob is the same everywhere: ``create`` a writer, ``write`` the body as it arrives
(MD5, and SHA-256 when asked, computed on the way), ``finish``, ``commit`` (the blob is now
complete and durable; only then does the store row that names it commit), and ``delete`` once no
row names it. A crash leaves either the previous object or the new one, never a torn one; at
worst an unreferenced blob remains, which ``prepare`` removes at the next start.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol


class BlobWriter(Protocol):
    """A blob being written. ``write``, ``finish`` and ``discard`` may run on different worker
    threads, one at a time (a discard may overlap a write: implementations lock)."""

    @property
    def size(self) -> int:
        """Bytes written so far."""
        ...

    def write(self, data: bytes | bytearray) -> None: ...

    def finish(self) -> tuple[bytes, str | None]:
        """Everything is written: (MD5 digest, hex SHA-256 or None). Not yet visible."""
        ...

    def discard(self) -> None:
        """Abandon the blob (at any point before ``commit``); nothing of it stays."""
        ...


class BlobStore(Protocol):
    """Object content, by blob name. Names are opaque strings the store rows keep."""

    @property
    def local(self) -> bool:
        """True when ``load`` only touches local disk (microseconds from the page cache): the
        service may then run it on the store thread right after the row read."""
        ...

    def prepare(self) -> int:
        """Start-up: create what is missing, remove leftovers no row names; returns how many."""
        ...

    def create(self, *, sha256: bool = False) -> BlobWriter: ...

    def commit(self, writer: BlobWriter) -> str:
        """Make a finished writer's blob complete and durable; returns its name."""
        ...

    def load(self, name: str, inline_limit: int) -> bytes | BinaryIO:
        """The content when at most ``inline_limit`` bytes, else an open, seekable binary
        stream (the caller closes it). It keeps reading the version it opened even if the blob
        is deleted meanwhile. FileNotFoundError when the blob is already gone."""
        ...

    def delete(self, name: str) -> None:
        """Remove a blob no row names any more (absent: fine). Failures are logged, not raised:
        the blob is then a leftover for ``prepare``."""
        ...

    def close(self) -> None: ...
