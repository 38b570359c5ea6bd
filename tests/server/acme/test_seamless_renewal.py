"""A certificate replaced under a bound name (an automatic renewal, or a rotation polled from
another process) is served without a gap: until the new context is built, handshakes for the
name get the old certificate, never the default one. Real handshakes on loopback."""

from __future__ import annotations

import asyncio
import os
import ssl

from tests.server.gateway.test_sni_contexts import binding, certificate, fingerprint, served
from tests.support.certs import CertFactory

from ossutil.server.certs.keystore import SecretBox
from ossutil.server.certs.tls import generate_self_signed
from ossutil.server.gateway.hooks import GatewayHooks
from ossutil.server.gateway.tls import SniContexts
from ossutil.server.models import Certificate
from ossutil.server.settings import Settings

DOMAIN = "renew.example.com"


def test_the_old_certificate_is_served_until_the_new_one_is_built() -> None:
    box, ca = SecretBox(os.urandom(32)), CertFactory()
    old = certificate(box, ca.leaf(DOMAIN), DOMAIN, "acme-old")
    new = certificate(box, ca.leaf(DOMAIN), DOMAIN, "acme-new")
    hooks = GatewayHooks(Settings())
    table = hooks.table
    default_chain, default_key = generate_self_signed(["localhost"])
    default = ssl.PEM_cert_to_DER_cert(default_chain)
    sni = hooks.sni = SniContexts(default_chain, default_key, table, box)

    def apply(cert: Certificate | None) -> asyncio.Future[None] | None:
        """One binding read, applied as the gateway applies a polled change."""
        return hooks._apply(DOMAIN, binding(DOMAIN, cert) if cert else None)

    async def scenario() -> None:
        table.apply(DOMAIN, binding(DOMAIN, old))
        await sni.prepare(table.certificates())
        assert fingerprint(served(sni.default, DOMAIN)) == old.fingerprint
        building = apply(new)
        assert building is not None and not building.done()
        # the loop is busy here, so the build cannot have been stored: the gap a poll leaves
        assert fingerprint(served(sni.default, DOMAIN)) == old.fingerprint
        await building
        assert fingerprint(served(sni.default, DOMAIN)) == new.fingerprint
        assert not sni.ready((old.cert_id, old.fingerprint)) and len(sni) == 1
        # unbound: nothing is kept for the name, at once
        assert apply(None) is None
        assert served(sni.default, DOMAIN) == default
        assert len(sni) == 0

    asyncio.run(scenario())
