"""ossutil: an OSS bucket-cname client and an OSS-compatible CNAME server.

Kept nearly empty on purpose: importing the CLI or the server pays only for itself.
"""

__version__ = "0.1.0"
