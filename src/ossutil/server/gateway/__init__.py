"""The custom-domain gateway: a bound domain serves its bucket over HTTP and HTTPS (issue 5).

    hooks.py     GatewayHooks: what runtime.py plugs in (object handlers, resolve, ssl_context,
                 on_change, the change poller)
    domains.py   DomainTable: domain -> bucket and domain -> certificate, in memory
    tls.py       SniContexts: the TLS listener's SNI callback and contexts built ahead of it

Choices (where OSS is silent or we differ):

- A Host that is not ours (endpoint, ``<bucket>.<endpoint>``, ``localhost``, an IP) is looked up
  exactly (lower-cased, port and trailing dot dropped) among enabled bindings. Unbound: 404
  ``NoSuchCnameInRecord`` with ``<Cname>`` naming the host; a bucket is never guessed from it.
- On a bound domain: every object operation (Get with Range, Head, Put, Delete, Copy, object
  ACL and meta, multipart upload), ListObjects(V2) (``GET /``), ListMultipartUploads and
  DeleteMultipleObjects, subject to the same authorization as on the endpoint (anonymous
  listing is refused even on public-read): an SDK given the domain as its CNAME endpoint sends
  its whole object API there. Bucket administration (``?acl``, ``?cname``, ...) answers 405
  ``MethodNotAllowed``: it belongs on the endpoint. No index documents (no static website).
- Signed requests through a domain are verified over ``/<bound bucket>/<key>``, as the SDKs
  sign for a CNAME endpoint; anonymous ones get what the bucket ACL grants.
- SNI: the exact name's attached certificate, else one attached to a ``*.<parent>`` binding
  (PutCname refuses wildcard domains today, so this matters only for stores that hold one),
  else the default certificate. Unbound names get the default certificate and then the 404.
"""
