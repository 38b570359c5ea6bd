"""SecretBox: AES-256-GCM sealing of private keys with the master key."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from ossutil.server.certs.keystore import SecretBox, SecretBoxError

KEY = bytes(range(32))
# b"\xfb\xff" encodes to "+/" in standard base64 and "-_" in the URL-safe alphabet.
ODD_KEY = b"\xfb\xff" * 16


def mode(path: Path) -> int:
    """Permission bits of a file."""
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_with_and_without_context() -> None:
    box = SecretBox(KEY)
    assert box.decrypt(box.encrypt(b"secret")) == b"secret"
    blob = box.encrypt(b"key material", context=b"cert:www.example.com")
    assert box.decrypt(blob, context=b"cert:www.example.com") == b"key material"
    assert box.decrypt(box.encrypt(b"")) == b""


def test_blob_layout_is_version_nonce_ciphertext_tag_with_a_fresh_nonce() -> None:
    box = SecretBox(KEY)
    first, second = box.encrypt(b"secret"), box.encrypt(b"secret")
    assert first[:1] == b"\x01"
    assert len(first) == 1 + 12 + len(b"secret") + 16
    assert first[1:13] != second[1:13]
    assert b"secret" not in first


def test_every_tampered_byte_is_detected() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt(b"private key", context=b"ctx")
    for index in range(1, len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(SecretBoxError, match="does not open"):
            box.decrypt(bytes(tampered), context=b"ctx")


def test_wrong_context_wrong_key_version_and_length_are_refused() -> None:
    box = SecretBox(KEY)
    blob = box.encrypt(b"private key", context=b"cert:a.example.com")
    with pytest.raises(SecretBoxError, match="does not open"):
        box.decrypt(blob, context=b"cert:b.example.com")
    with pytest.raises(SecretBoxError, match="does not open"):
        SecretBox(ODD_KEY).decrypt(blob, context=b"cert:a.example.com")
    with pytest.raises(SecretBoxError, match="version 2"):
        box.decrypt(b"\x02" + blob[1:], context=b"cert:a.example.com")
    with pytest.raises(SecretBoxError, match="too short"):
        box.decrypt(blob[:28])
    with pytest.raises(SecretBoxError, match="32 bytes"):
        SecretBox(KEY[:16])


def test_master_key_file_is_created_with_mode_0600_and_reused(tmp_path: Path) -> None:
    box = SecretBox.from_data_dir(tmp_path, {})
    path = tmp_path / "master.key"
    assert mode(path) == 0o600
    assert len(base64.b64decode(path.read_text().strip(), validate=True)) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temporary file left
    again = SecretBox.from_data_dir(tmp_path, {})
    assert again.decrypt(box.encrypt(b"x", context=b"c"), context=b"c") == b"x"


def test_master_key_file_mode_ignores_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        SecretBox.from_data_dir(tmp_path, {})
    finally:
        os.umask(previous)
    assert mode(tmp_path / "master.key") == 0o600


def test_missing_data_dir_is_created(tmp_path: Path) -> None:
    SecretBox.from_data_dir(tmp_path / "a" / "b", {})
    assert mode(tmp_path / "a" / "b" / "master.key") == 0o600


def test_loose_master_key_file_is_tightened_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(KEY).decode() + "\n")
    path.chmod(0o644)
    box = SecretBox.from_data_dir(tmp_path, {})
    assert mode(path) == 0o600
    assert SecretBox(KEY).decrypt(box.encrypt(b"x")) == b"x"


def test_corrupt_master_key_file_names_the_file_not_the_content(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text("c2hvcnQga2V5\n")
    with pytest.raises(SecretBoxError) as caught:
        SecretBox.from_data_dir(tmp_path, {})
    assert str(path) in str(caught.value)
    assert "c2hvcnQga2V5" not in str(caught.value)


@pytest.mark.parametrize(
    "encoded",
    [
        base64.urlsafe_b64encode(ODD_KEY).decode(),
        base64.b64encode(ODD_KEY).decode(),
        base64.urlsafe_b64encode(ODD_KEY).decode().rstrip("="),
        " " + base64.b64encode(ODD_KEY).decode() + "\n",
    ],
    ids=["urlsafe", "standard", "unpadded", "whitespace"],
)
def test_env_master_key_wins_over_the_file(tmp_path: Path, encoded: str) -> None:
    file_box = SecretBox.from_data_dir(tmp_path, {})
    env_box = SecretBox.from_data_dir(tmp_path, {"OSS_SERVER_MASTER_KEY": encoded})
    blob = env_box.encrypt(b"x")
    assert SecretBox(ODD_KEY).decrypt(blob) == b"x"
    with pytest.raises(SecretBoxError):
        file_box.decrypt(blob)


def test_env_master_key_creates_no_file(tmp_path: Path) -> None:
    env = {"OSS_SERVER_MASTER_KEY": base64.b64encode(KEY).decode()}
    SecretBox.from_data_dir(tmp_path, env)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!!",
        base64.b64encode(KEY[:16]).decode(),
        base64.b64encode(KEY + b"!").decode(),
        base64.b64encode(KEY).decode()[:-4] + "-/+_",  # mixed alphabets
        KEY.hex(),
    ],
    ids=["empty", "text", "16-bytes", "33-bytes", "mixed-alphabet", "hex"],
)
def test_bad_env_master_key_is_refused_without_echoing_it(tmp_path: Path, value: str) -> None:
    with pytest.raises(SecretBoxError) as caught:
        SecretBox.from_data_dir(tmp_path, {"OSS_SERVER_MASTER_KEY": value})
    message = str(caught.value)
    assert "OSS_SERVER_MASTER_KEY" in message
    assert "32 bytes" in message
    if value:
        assert value not in message
        assert value[:8] not in message
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    assert not (tmp_path / "master.key").exists()


def test_repr_never_shows_the_key(tmp_path: Path) -> None:
    encoded = base64.b64encode(ODD_KEY).decode()
    env_box = SecretBox.from_data_dir(tmp_path, {"OSS_SERVER_MASTER_KEY": encoded})
    file_box = SecretBox.from_data_dir(tmp_path, {})
    file_key = (tmp_path / "master.key").read_text().strip()
    assert repr(env_box) == "SecretBox(source='env:OSS_SERVER_MASTER_KEY')"
    assert repr(file_box) == f"SecretBox(source={'file:' + str(tmp_path / 'master.key')!r})"
    for box, secret in ((env_box, encoded), (file_box, file_key)):
        shown = repr(box) + str(box) + repr(vars(box))
        assert secret not in shown
        assert secret[:8] not in shown
