"""Domain health: a periodic check of every binding (issue 11 §2).

    checker.py   HealthChecker: DNS (still pointing here? ``dnsrules.pointing``), the served
                 certificate against the held one, days to expiry, the automatic certificate's
                 last renewal; marks dangling bindings in the store (no ACME orders for them)
    lookup.py    RecordLookup: A/AAAA with ``dnsrules.records``' CNAME chase on
                 ``dns.asyncresolver`` (never blocks the event loop)
    task.py      HealthTask: the round every ``--health-interval`` seconds or on request, run by
                 one of the processes sharing the store
    report.py    DomainReport (stored as JSON), the ``ossutil-server domains`` table and --json
"""
