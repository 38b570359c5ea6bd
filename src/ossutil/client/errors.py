"""Local client failures: everything that is not an error reply from OSS.

A reply from OSS (status 4xx/5xx, or any status outside what an operation accepts) is an
``ossutil.wire.errors.OssError``; the raw reply is attached as ``error.response`` so a caller that
must reproduce another client's wording byte for byte (the CLI) can. Everything that happens on
this side of the wire is a ``ClientError`` (click's ``ClickException`` idea): it carries an
``exit_code`` and its text is what a user should see.

    Exception
     ├── OssError                      (ossutil.wire.errors) a service error reply
     └── ClientError                   exit_code = 1
          ├── ConfigError              config file missing, unreadable or with bad values
          ├── TransportError           (client.transport) no HTTP response; Go's url.Error text
          └── UnexpectedStatusError    a 2xx other than the one an operation requires
"""

from __future__ import annotations


class ClientError(Exception):
    """A failure on the client side; ``str(error)`` is the user-facing message."""

    exit_code = 1


class ConfigError(ClientError):
    """The config file could not be read or holds a value of the wrong type."""


class UnexpectedStatusError(ClientError):
    """A success status other than the expected one (Go SDK ``UnexpectedStatusCodeError``).

    ``str()`` is the Go text:
    ``oss: status code from service response is 204 No Content; was expecting 200 OK``.
    """

    def __init__(self, status: int, expected: tuple[int, ...]) -> None:
        self.status = status
        self.expected = expected
        got = _status_text(status)
        wanted = " or ".join(_status_text(code) for code in expected)
        super().__init__(f"oss: status code from service response is {got}; "
                         f"was expecting {wanted}")


def _status_text(code: int) -> str:
    """``204 No Content``: Go's ``http.StatusText`` (empty for unknown codes)."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return f"{code} {phrase}"
