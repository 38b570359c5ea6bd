"""check_certificate, certificate_covers and friends: every failure with its exact message."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st
from tests.support.certs import CertFactory, reference_pair

from ossutil import certcheck as checker
from ossutil.certcheck import (
    CertificateFacts,
    CheckedCertificate,
    certificate_covers,
    check_certificate,
    describe_certificate,
    fingerprint_sha1,
    parse_certificate_chain,
)
from ossutil.wire.errors import OssError

REF_CERT, REF_KEY = reference_pair()
REF_FINGERPRINT = "4D:7F:E3:C1:45:64:EB:1B:20:CC:61:F8:CA:B7:B5:61:36:0C:A3:24"
REF_NOT_BEFORE = datetime(2025, 1, 10, tzinfo=UTC)
REF_NOT_AFTER = datetime(2026, 1, 10, tzinfo=UTC)
REF_NOW = datetime(2025, 6, 1, tzinfo=UTC)


def now() -> datetime:
    """The real clock: CertFactory leaves are valid relative to it."""
    return datetime.now(UTC)


def rejection(certificate: str, private_key: str, domain: str, at: datetime) -> OssError:
    """The OssError check_certificate raises; it must be InvalidArgument / 400."""
    with pytest.raises(OssError) as caught:
        check_certificate(certificate, private_key, domain, at)
    assert caught.value.code == "InvalidArgument"
    assert caught.value.status == 400
    return caught.value


def assert_no_key_text(error: BaseException, key_pem: str) -> None:
    """No 12-character run of the key's body appears in the error's str, repr or fields."""
    body = "".join(line for line in key_pem.splitlines() if not line.startswith("-----"))
    body = "".join(body.split())
    shown = " ".join([str(error), repr(error), *map(str, error.args)])
    if isinstance(error, OssError):
        shown += " " + error.message + " " + " ".join(error.details.values())
    assert body, "test key has no body"
    for start in range(len(body) - 11):
        assert body[start : start + 12] not in shown


def pem_key(key: object, fmt: serialization.PrivateFormat, password: bytes | None = None) -> str:
    """Serialise a cryptography private key as PEM text."""
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()  # type: ignore[attr-defined]


def self_signed(
    common_name: str,
    san: list[x509.GeneralName] | None,
    key: ec.EllipticCurvePrivateKey | ed448.Ed448PrivateKey | None = None,
) -> tuple[str, str]:
    """A self-signed leaf with the given CN and SAN entries (no SAN extension if None)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now() - timedelta(days=1))
        .not_valid_after(now() + timedelta(days=30))
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(key, None if isinstance(key, ed448.Ed448PrivateKey) else hashes.SHA256())
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        pem_key(key, serialization.PrivateFormat.PKCS8),
    )


# --- the reference pair -------------------------------------------------------------------


def test_reference_pair_gives_the_published_fingerprint_and_dates() -> None:
    checked = check_certificate(REF_CERT, REF_KEY, "www.example.com", REF_NOW)
    assert checked.fingerprint == REF_FINGERPRINT
    assert checked.not_before == REF_NOT_BEFORE
    assert checked.not_after == REF_NOT_AFTER
    assert checked.not_before.tzinfo is not None and checked.not_after.utcoffset() == timedelta(0)
    assert checked.names == ("www.example.com",)
    assert checked.chain_pem == REF_CERT
    assert checked.key_pem == REF_KEY.encode()


def test_space_separated_pem_from_alibaba_doc_samples_is_accepted() -> None:
    cert = " ".join(REF_CERT.split("\n")).strip()
    key = " ".join(REF_KEY.split("\n")).strip()
    assert "\n" not in cert and "\n" not in key
    checked = check_certificate(cert, key, "www.example.com", REF_NOW)
    assert checked.fingerprint == REF_FINGERPRINT
    assert checked.chain_pem == REF_CERT


def test_crlf_and_surrounding_text_are_accepted() -> None:
    cert = "subject=CN = www.example.com\r\n" + REF_CERT.replace("\n", "\r\n") + "\r\n\r\n"
    checked = check_certificate(cert, REF_KEY.replace("\n", "\r\n"), "www.example.com", REF_NOW)
    assert checked.chain_pem == REF_CERT


def test_describe_certificate_reads_stored_pem_without_key() -> None:
    facts = describe_certificate(REF_CERT)
    assert facts == CertificateFacts(
        fingerprint=REF_FINGERPRINT,
        not_before=REF_NOT_BEFORE,
        not_after=REF_NOT_AFTER,
        names=("www.example.com",),
    )
    checked = check_certificate(REF_CERT, REF_KEY, "www.example.com", REF_NOW)
    assert checked.facts == facts


def test_describe_certificate_rejects_bad_pem() -> None:
    with pytest.raises(OssError) as caught:
        describe_certificate("not a certificate")
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message == "The certificate is not valid PEM."


def test_fingerprint_sha1_is_uppercase_colon_separated_sha1_of_der() -> None:
    leaf = parse_certificate_chain(REF_CERT)[0]
    assert fingerprint_sha1(leaf) == REF_FINGERPRINT


# --- key types and formats ----------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["ec", "rsa", "ed25519"])
def test_keys_of_each_type_are_accepted_and_re_serialised_as_pkcs8(
    certs: CertFactory, key_type: str
) -> None:
    chain, key = certs.leaf("www.example.com", key_type=key_type)
    checked = check_certificate(chain, key, "www.example.com", now())
    assert checked.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert checked.chain_pem == chain
    assert checked.names == ("www.example.com",)


def test_traditional_rsa_and_sec1_ec_keys_are_accepted(certs: CertFactory) -> None:
    for key_type in ("rsa", "ec"):
        chain, pkcs8 = certs.leaf("www.example.com", key_type=key_type)
        key = serialization.load_pem_private_key(pkcs8.encode(), None)
        traditional = pem_key(key, serialization.PrivateFormat.TraditionalOpenSSL)
        assert "BEGIN RSA PRIVATE KEY" in traditional or "BEGIN EC PRIVATE KEY" in traditional
        checked = check_certificate(chain, traditional, "www.example.com", now())
        assert checked.key_pem == pkcs8.encode()


def test_ec_parameters_block_and_certificate_next_to_the_key_are_skipped(
    certs: CertFactory,
) -> None:
    chain, key = certs.leaf("www.example.com")
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    checked = check_certificate(chain, params + key + chain, "www.example.com", now())
    assert checked.key_pem == key.encode()


def test_chain_certificates_are_kept_in_order_after_the_leaf(certs: CertFactory) -> None:
    chain, key = certs.leaf("www.example.com")
    checked = check_certificate(chain + certs.ca_pem(), key, "www.example.com", now())
    blocks = parse_certificate_chain(checked.chain_pem)
    assert len(blocks) == 2
    assert checked.chain_pem == chain + certs.ca_pem()
    assert checked.chain_pem.endswith("-----END CERTIFICATE-----\n")
    assert checked.fingerprint == fingerprint_sha1(blocks[0])


# --- failures, in check order, with exact messages ------------------------------------------


@pytest.mark.parametrize(
    "certificate",
    [
        "",
        "   \n",
        "hello",
        "-----BEGIN CERTIFICATE-----\nMIIB\n",  # no END line
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",  # empty body
        "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nQUJ\n-----END CERTIFICATE-----\n",  # bad padding
        REF_CERT.replace("-----END CERTIFICATE-----", "-----END CERTIFICATEX-----"),
    ],
    ids=["empty", "blank", "text", "no-end", "empty-body", "bad-char", "bad-padding", "bad-end"],
)
def test_malformed_certificate_pem(certificate: str) -> None:
    error = rejection(certificate, REF_KEY, "www.example.com", REF_NOW)
    assert error.message == "The certificate is not valid PEM."


def test_certificate_block_that_is_not_x509() -> None:
    garbage = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n"
    error = rejection(garbage, REF_KEY, "www.example.com", REF_NOW)
    assert error.message == (
        "The certificate at position 1 in the chain is not a valid X.509 certificate."
    )
    error = rejection(REF_CERT + garbage, REF_KEY, "www.example.com", REF_NOW)
    assert error.message == (
        "The certificate at position 2 in the chain is not a valid X.509 certificate."
    )


def test_key_pasted_into_the_certificate_field_is_refused_without_echoing_it() -> None:
    error = rejection(REF_CERT + REF_KEY, REF_KEY, "www.example.com", REF_NOW)
    assert error.message == "The certificate must hold only CERTIFICATE blocks (found PRIVATE KEY)."
    assert_no_key_text(error, REF_KEY)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "secret",
        REF_KEY.replace("-----END PRIVATE KEY-----", ""),
        "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n",
        REF_KEY.replace("MIGHAgEA", "MIGHAgE*"),
        REF_CERT,  # a certificate where the key should be
    ],
    ids=["empty", "text", "no-end", "not-a-key", "bad-char", "only-certificate"],
)
def test_malformed_private_key(key: str) -> None:
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == "The private key is not valid PEM."
    if "PRIVATE KEY" in key:
        assert_no_key_text(error, key)


@pytest.mark.parametrize(
    "fmt",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
    ids=["pkcs8", "openssl-legacy"],
)
def test_encrypted_private_key(certs: CertFactory, fmt: serialization.PrivateFormat) -> None:
    chain, key = certs.leaf("www.example.com", key_type="rsa")
    encrypted = pem_key(serialization.load_pem_private_key(key.encode(), None), fmt, b"pass")
    assert "ENCRYPTED" in encrypted
    error = rejection(chain, encrypted, "www.example.com", now())
    assert error.message == "The private key is encrypted; upload it without a passphrase."
    assert_no_key_text(error, encrypted)
    spaced = rejection(chain, " ".join(encrypted.splitlines()), "www.example.com", now())
    assert spaced.message == error.message


def test_two_private_keys() -> None:
    error = rejection(REF_CERT, REF_KEY + REF_KEY, "www.example.com", REF_NOW)
    assert error.message == "The private key field holds more than one private key."
    assert_no_key_text(error, REF_KEY)


def test_dsa_key_is_an_unsupported_type() -> None:
    key = pem_key(dsa.generate_private_key(2048), serialization.PrivateFormat.PKCS8)
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == (
        "The private key type DSA is not supported (use RSA, EC, Ed25519 or Ed448)."
    )
    assert_no_key_text(error, key)


def test_ed448_key_is_accepted() -> None:
    chain, key = self_signed(
        "www.example.com", [x509.DNSName("www.example.com")], ed448.Ed448PrivateKey.generate()
    )
    assert check_certificate(chain, key, "www.example.com", now()).names == ("www.example.com",)


def test_ec_key_on_a_curve_tls_clients_do_not_offer() -> None:
    key = pem_key(ec.generate_private_key(ec.SECP256K1()), serialization.PrivateFormat.PKCS8)
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == (
        "The private key's EC curve secp256k1 is not supported (use P-256, P-384 or P-521)."
    )
    assert_no_key_text(error, key)


def test_rsa_key_below_2048_bits() -> None:
    key = pem_key(rsa.generate_private_key(65537, 1024), serialization.PrivateFormat.PKCS8)
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == "The private key is RSA with 1024 bits; use 2048 to 4096 bits."
    assert_no_key_text(error, key)


def test_rsa_key_above_the_limit_is_refused_before_it_is_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real 8193-bit key takes minutes to generate: lower the limit instead.
    monkeypatch.setattr(checker, "_RSA_MAX_BITS", 2048)
    key = pem_key(rsa.generate_private_key(65537, 3072), serialization.PrivateFormat.PKCS8)
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == "The private key is RSA with 3072 bits; use 2048 to 2048 bits."


def test_rsa_key_whose_parts_do_not_agree_is_damaged(certs: CertFactory) -> None:
    chain, key = certs.leaf("www.example.com", key_type="rsa")
    numbers = serialization.load_pem_private_key(key.encode(), None).private_numbers()  # type: ignore[union-attr]
    broken = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d,
        dmp1=numbers.dmp1 ^ 2,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    broken_pem = pem_key(broken, serialization.PrivateFormat.PKCS8)
    error = rejection(chain, broken_pem, "www.example.com", now())
    assert error.message == "The private key is damaged: its RSA parameters do not agree."
    assert_no_key_text(error, broken_pem)


def test_openssh_key_is_an_unsupported_format() -> None:
    key = pem_key(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.OpenSSH)
    error = rejection(REF_CERT, key, "www.example.com", REF_NOW)
    assert error.message == "The private key format OPENSSH PRIVATE KEY is not supported."
    assert_no_key_text(error, key)


@pytest.mark.parametrize("key_type", ["ec", "rsa", "ed25519"])
def test_key_of_another_certificate(certs: CertFactory, key_type: str) -> None:
    chain, _ = certs.leaf("www.example.com", key_type=key_type)
    _, other = certs.leaf("www.example.com", key_type=key_type)
    error = rejection(chain, other, "www.example.com", now())
    assert error.message == "The private key does not match the certificate."
    assert_no_key_text(error, other)


def test_mismatched_key_helper_and_key_of_another_type(certs: CertFactory) -> None:
    chain, key = certs.mismatched_key("www.example.com")
    error = rejection(chain, key, "www.example.com", now())
    assert error.message == "The private key does not match the certificate."
    error = rejection(REF_CERT, certs.leaf("x.example.com", key_type="rsa")[1], "x", REF_NOW)
    assert error.message == "The private key does not match the certificate."


def test_chain_with_the_leaf_not_first(certs: CertFactory) -> None:
    chain, key = certs.leaf("www.example.com")
    error = rejection(certs.ca_pem() + chain, key, "www.example.com", now())
    assert error.message == (
        "The private key matches certificate 2 of the chain, not the first; "
        "put the leaf certificate first."
    )


def test_not_yet_valid(certs: CertFactory) -> None:
    chain, key = certs.leaf(
        "www.example.com",
        not_before=datetime(2030, 1, 1, tzinfo=UTC),
        not_after=datetime(2031, 1, 1, tzinfo=UTC),
    )
    error = rejection(chain, key, "www.example.com", now())
    assert error.message == "The certificate is not valid until 2030-01-01T00:00:00Z."
    chain, key = certs.not_yet_valid("www.example.com")
    assert rejection(chain, key, "www.example.com", now()).message.startswith(
        "The certificate is not valid until "
    )


def test_expired() -> None:
    error = rejection(REF_CERT, REF_KEY, "www.example.com", datetime(2026, 2, 1, tzinfo=UTC))
    assert error.message == "The certificate expired at 2026-01-10T00:00:00Z."


def test_expired_helper(certs: CertFactory) -> None:
    chain, key = certs.expired("www.example.com")
    assert rejection(chain, key, "www.example.com", now()).message.startswith(
        "The certificate expired at "
    )


def test_validity_bounds_are_inclusive() -> None:
    for at in (REF_NOT_BEFORE, REF_NOT_AFTER):
        assert check_certificate(REF_CERT, REF_KEY, "www.example.com", at).names
    later = REF_NOT_AFTER + timedelta(seconds=1)
    assert rejection(REF_CERT, REF_KEY, "www.example.com", later).message.startswith(
        "The certificate expired"
    )


def test_now_in_another_timezone_is_compared_as_an_instant() -> None:
    tokyo = timezone(timedelta(hours=9))
    just_before = datetime(2025, 1, 10, 8, 59, 59, tzinfo=tokyo)  # 2025-01-09T23:59:59Z
    assert rejection(REF_CERT, REF_KEY, "www.example.com", just_before).message == (
        "The certificate is not valid until 2025-01-10T00:00:00Z."
    )


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_certificate(REF_CERT, REF_KEY, "www.example.com", datetime(2025, 6, 1))


def test_domain_not_covered(certs: CertFactory) -> None:
    chain, key = certs.leaf("a.example.org", "*.example.net")
    error = rejection(chain, key, "www.example.com", now())
    assert error.message == (
        "The certificate does not cover the domain www.example.com "
        "(it covers: a.example.org, *.example.net)."
    )


def test_domain_not_covered_by_a_certificate_without_dns_names() -> None:
    chain, key = self_signed("www.example.com", [x509.IPAddress(ipaddress.ip_address("192.0.2.1"))])
    error = rejection(chain, key, "www.example.com", now())
    assert error.message == (
        "The certificate does not cover the domain www.example.com (it covers: no DNS names)."
    )


def test_checks_run_in_order(certs: CertFactory) -> None:
    expired_chain, _ = certs.expired("a.example.org")
    # bad certificate beats bad key
    assert rejection("junk", "junk", "x.example.com", now()).message == (
        "The certificate is not valid PEM."
    )
    # bad key beats dates and domain
    assert rejection(expired_chain, "junk", "x.example.com", now()).message == (
        "The private key is not valid PEM."
    )
    # key mismatch beats dates and domain
    _, other = certs.leaf("a.example.org")
    assert rejection(expired_chain, other, "x.example.com", now()).message == (
        "The private key does not match the certificate."
    )
    # dates beat domain
    chain, key = certs.expired("a.example.org")
    assert rejection(chain, key, "x.example.com", now()).message.startswith(
        "The certificate expired at "
    )


# --- names ----------------------------------------------------------------------------------


def test_names_are_lowercased_and_deduplicated(certs: CertFactory) -> None:
    chain, key = certs.leaf("WWW.Example.COM", "www.example.com", "*.Example.COM")
    checked = check_certificate(chain, key, "www.example.com", now())
    assert checked.names == ("www.example.com", "*.example.com")


def test_subject_cn_is_used_only_without_a_san_extension() -> None:
    chain, key = self_signed("Legacy.Example.com", None)
    checked = check_certificate(chain, key, "legacy.example.com", now())
    assert checked.names == ("legacy.example.com",)
    chain, key = self_signed("legacy.example.com", [x509.DNSName("other.example.com")])
    checked = check_certificate(chain, key, "other.example.com", now())
    assert checked.names == ("other.example.com",)
    error = rejection(chain, key, "legacy.example.com", now())
    assert error.message.endswith("(it covers: other.example.com).")


COVERS_TABLE = [
    (["www.example.com"], "www.example.com", True),
    (["WWW.Example.COM"], "www.example.com", True),
    (["www.example.com."], "www.example.com", True),
    (["www.example.com"], "WWW.EXAMPLE.COM.", True),
    (["www.example.com"], "www.example.com..", False),
    (["example.com"], "www.example.com", False),
    (["www.example.com"], "example.com", False),
    (["*.example.com"], "a.example.com", True),
    (["*.example.com"], "A.Example.Com", True),
    (["*.Example.com."], "a.example.com", True),
    (["*.example.com"], "example.com", False),
    (["*.example.com"], "a.b.example.com", False),
    (["*.example.com"], ".example.com", False),
    (["f*.example.com"], "foo.example.com", False),
    (["*oo.example.com"], "foo.example.com", False),
    (["f*o.example.com"], "foo.example.com", False),
    (["a.*.example.com"], "a.b.example.com", False),
    (["*.*.example.com"], "a.b.example.com", False),
    (["*.com"], "example.com", False),
    (["*."], "example.", False),
    (["*"], "localhost", False),
    (["*.co.uk"], "example.co.uk", True),  # no public-suffix list: two labels are enough
    (["*.xn--bcher-kva.example"], "a.xn--bcher-kva.example", True),
    (["*.example.com"], "xn--bcher-kva.example.com", True),
    (["xn--*.example.com"], "xn--bcher-kva.example.com", False),
    (["bücher.example"], "xn--bcher-kva.example", False),
    (["xn--bcher-kva.example"], "bücher.example", False),
    ([], "example.com", False),
    (["www.example.com"], "", False),
    (["a.example.org", "*.example.net"], "b.example.net", True),
    (["a.example.org", "*.example.net"], "a.example.net.", True),
]


@pytest.mark.parametrize(("names", "domain", "expected"), COVERS_TABLE)
def test_certificate_covers(names: list[str], domain: str, expected: bool) -> None:
    assert certificate_covers(names, domain) is expected


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(st.lists(LABEL, min_size=1, max_size=5))
def test_a_name_covers_itself_in_any_case_and_a_wildcard_covers_one_label(
    labels: list[str],
) -> None:
    domain = ".".join(labels)
    assert certificate_covers([domain.upper()], domain)
    assert certificate_covers([domain], domain.upper() + ".")
    wildcard = "*." + ".".join(labels[1:])
    assert certificate_covers([wildcard], domain) is (len(labels) >= 3)
    assert not certificate_covers([wildcard], "x." + domain)


# --- robustness and secrecy -------------------------------------------------------------------


@given(st.text(max_size=300))
def test_any_certificate_text_is_accepted_or_invalid_argument(text: str) -> None:
    for candidate in (text, f"-----BEGIN CERTIFICATE-----{text}-----END CERTIFICATE-----"):
        try:
            check_certificate(candidate, REF_KEY, "www.example.com", REF_NOW)
        except OssError as error:
            assert error.code == "InvalidArgument"


@given(st.text(max_size=300))
def test_any_key_text_is_accepted_or_invalid_argument(text: str) -> None:
    for candidate in (text, f"-----BEGIN PRIVATE KEY-----{text}-----END PRIVATE KEY-----"):
        try:
            check_certificate(REF_CERT, candidate, "www.example.com", REF_NOW)
        except OssError as error:
            assert error.code == "InvalidArgument"
            assert text.strip() == "" or len(text) < 12 or text not in error.message


def test_repr_of_checked_certificate_shows_no_key_material(certs: CertFactory) -> None:
    chain, key = certs.leaf("www.example.com", key_type="rsa")
    checked = check_certificate(chain, key, "www.example.com", now())
    shown = repr(checked) + str(checked)
    assert "PRIVATE" not in shown
    assert_no_key_text(ValueError(shown), key)
    assert checked.fingerprint in shown
    assert isinstance(checked, CheckedCertificate)
