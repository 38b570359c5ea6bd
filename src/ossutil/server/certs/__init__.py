"""Certificates: check uploads, keep private keys sealed, build TLS contexts.

- ``checker``  PEM chain + key + domain -> ``CheckedCertificate`` or ``OssError`` InvalidArgument
- ``keystore`` ``SecretBox``: AES-256-GCM with the server master key, for keys at rest
- ``tls``      ``ssl.SSLContext`` from PEM in memory; the default self-signed certificate

Import the submodule you need; this package imports nothing so ``keystore`` stays cheap.
"""
