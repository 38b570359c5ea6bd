"""DNS for the ownership proof: the ``TxtLookup`` protocol and its implementations.

    TxtLookup (protocol)          lookup.py    lookup_txt(name) -> TxtAnswer
     ├── DnspythonTxtLookup       lookup.py    asks DNS servers (dns.asyncresolver, no cache)
     └── ZoneFileTxtLookup        zonefile.py  answers from an RFC 1035 master file

``ownership.verify_ownership`` checks ``_dnsauth.<domain>`` against a CnameToken. The submodules
are imported directly (``from ossutil.server.dns.lookup import ...``) so that importing this
package does not load dnspython.
"""

from __future__ import annotations
