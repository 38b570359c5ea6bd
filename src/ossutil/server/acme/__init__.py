"""Automatic HTTPS for bound domains: certificates from an ACME CA (RFC 8555), issue 11.

    service.py     AcmeService: the scheduler (due names, order lease, renewal, back-off) and
                   the state it records per name (``AcmeStore.acme_states``)
    client.py      AcmeClient: the protocol over certbot's ``acme`` library, in worker threads
    challenges.py  ChallengeResponder: HTTP-01 key authorizations, TLS-ALPN-01 contexts,
                   shared through the store
    caa.py         CaaCheck: may the CA issue for the name (RFC 8659), before any order

Built by ``server/app.py`` only with ``--acme-directory``; the gateway serves what it issues
(``Binding.served_certificate``: an uploaded certificate wins).
"""
