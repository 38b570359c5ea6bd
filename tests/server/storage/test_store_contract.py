"""The Store contract: the same assertions against SqliteStore and PostgresStore.

``open_store()`` opens another store instance on the same database (another process, in effect),
so the race tests run two instances from two threads, as two server processes would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from tests.support.stores import OpenStore

from ossutil.server.auth.sealing import Sealer
from ossutil.server.certs.keystore import SecretBox
from ossutil.server.models import (
    AccessKey,
    Account,
    BindingChange,
    BindingStatus,
    Bucket,
    BucketAcl,
    Certificate,
    CertificateType,
    CnameTokenRecord,
    MultipartUpload,
    ObjectMeta,
    ObjectType,
    PartRecord,
    SealedAccessKey,
    User,
)
from ossutil.server.storage.base import (
    BucketMissing,
    DomainTaken,
    NoSuchUser,
    ObjectExists,
    Store,
    UploadMissing,
    UserExists,
)

T0 = datetime(2025, 2, 1, 3, 4, 5, 678901, tzinfo=timezone.utc)
OWNER = "1234567890123456"
BOX = SecretBox(bytes(range(32)))
SEALER = Sealer(BOX)  # the auth side: stores take and give back sealed secrets only




@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()


def root(store: Store) -> AccessKey:
    key = AccessKey("LTAIroot", "root-secret", OWNER, None)
    assert store.bootstrap_root(Account(OWNER, T0), SEALER.seal(key))
    return key


def create_user(store: Store, user: User, key: AccessKey) -> None:
    store.create_user(user, SEALER.seal(key))


def load_auth(store: Store) -> tuple[int, list[AccessKey], dict[str, str | None]]:
    """``Store.load_auth`` with the secrets opened, as the KeyRing does."""
    version, sealed, policies = store.load_auth()
    assert all(isinstance(key, SealedAccessKey) for key in sealed)
    return version, [SEALER.open(key) for key in sealed], policies


def bucket(store: Store, name: str, owner: str = OWNER) -> Bucket:
    return store.create_bucket(Bucket(name, owner, "cn-hangzhou", "private", "Standard", T0))


def bind(store: Store, domain: str, bucket_name: str, *, at: datetime = T0,
         is_new: bool = True, **extra: Any) -> Any:
    return store.apply_binding(BindingChange(domain, bucket_name, at, is_new,
                                             extra.pop("cert_action", "keep"), **extra))


def certificate(cert_id: str = "cert-1") -> Certificate:
    return Certificate(cert_id, OWNER, CertificateType.UPLOAD,
                       "-----BEGIN CERTIFICATE-----\n...",
                       BOX.encrypt(b"private key", context=b"cert"), "AB:CD",
                       T0 - timedelta(days=1), T0 + timedelta(days=90), T0)


def obj(key: str, blob: str, bucket_name: str = "b1", **extra: Any) -> ObjectMeta:
    return ObjectMeta(bucket_name, key, 3, '"ETAG"', "text/plain", T0, blob, **extra)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


# --- accounts, users, keys ----------------------------------------------------------------


def test_bootstrap_root_creates_the_account_once(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    assert first.root_account() is None
    key = root(first)
    assert not second.bootstrap_root(Account("other", T0),
                                 SEALER.seal(AccessKey("LTAIx", "s", "other", None)))
    account = second.root_account()
    assert account == Account(OWNER, T0)
    assert account is not None and account.created_at.isoformat() == T0.isoformat()
    version, keys, policies = load_auth(second)
    assert (version, keys, policies) == (1, [key], {})
    assert keys[0].secret == "root-secret"


def test_secrets_are_kept_sealed_as_given(store: Store) -> None:
    sealed = SEALER.seal(AccessKey("LTAIroot", "root-secret", OWNER, None))
    assert store.bootstrap_root(Account(OWNER, T0), sealed)
    _, keys, _ = store.load_auth()
    assert keys == [sealed]  # the same ciphertext back: the store neither opens nor reseals
    # the at-rest format of existing data dirs: SecretBox, the AccessKeyId as associated data
    assert BOX.decrypt(keys[0].secret_sealed, context=b"LTAIroot") == b"root-secret"


def test_users_create_list_policy_delete(store: Store) -> None:
    root_key = root(store)
    alice = AccessKey("LTAIalice", "alice-secret", OWNER, "alice")
    create_user(store, User("alice", OWNER, None, T0), alice)
    create_user(store, User("Bob", OWNER, '{"Version": "1"}', T0),
                AccessKey("LTAIbob", "bob-secret", OWNER, "Bob"))
    with pytest.raises(UserExists):
        create_user(store, User("alice", OWNER, None, T0), AccessKey("LTAIa2", "s", OWNER, "alice"))
    assert store.list_users() == [User("Bob", OWNER, '{"Version": "1"}', T0),
                                  User("alice", OWNER, None, T0)]  # byte order: B < a
    assert store.auth_version() == 3

    store.set_user_policy("alice", '{"Statement": []}')
    with pytest.raises(NoSuchUser):
        store.set_user_policy("nobody", None)
    version, keys, policies = load_auth(store)
    assert version == store.auth_version() == 4
    assert sorted(keys, key=lambda k: k.access_key_id) == [
        AccessKey("LTAIalice", "alice-secret", OWNER, "alice"),
        AccessKey("LTAIbob", "bob-secret", OWNER, "Bob"), root_key]
    assert policies == {"alice": '{"Statement": []}', "Bob": '{"Version": "1"}'}

    store.delete_user("alice")
    with pytest.raises(NoSuchUser):
        store.delete_user("alice")
    version, keys, policies = load_auth(store)
    assert version == 5
    assert {k.access_key_id for k in keys} == {"LTAIbob", "LTAIroot"}
    assert list(policies) == ["Bob"]


def test_user_changes_are_seen_by_another_instance(open_store: OpenStore) -> None:
    writer, reader = open_store(), open_store()
    root(writer)
    before = reader.versions()
    create_user(writer, User("carol", OWNER, None, T0), AccessKey("LTAIc", "c", OWNER, "carol"))
    after = reader.versions()
    assert after["auth"] == before["auth"] + 1
    assert after["buckets"] == before["buckets"] and after["bindings"] == before["bindings"]
    assert [u.name for u in reader.list_users()] == ["carol"]


def test_versions_start_at_zero_and_count_changes(store: Store) -> None:
    assert store.versions() == {"auth": 0, "buckets": 0, "bindings": 0, "objects": 0}
    root(store)
    bucket(store, "b1")
    bucket(store, "b1")  # exists: no change
    store.set_bucket_acl("b1", BucketAcl.PUBLIC_READ)
    bind(store, "www.example.com", "b1")
    assert store.versions() == {"auth": 1, "buckets": 2, "bindings": 1, "objects": 0}


# --- buckets ------------------------------------------------------------------------------


def test_create_bucket_returns_the_stored_bucket(store: Store) -> None:
    created = bucket(store, "b1")
    assert created == Bucket("b1", OWNER, "cn-hangzhou", BucketAcl.PRIVATE, "Standard", T0)
    again = store.create_bucket(Bucket("b1", "someone-else", "cn-beijing", "public-read",
                                       "IA", T0 + timedelta(hours=1)))
    assert again == created
    assert store.get_bucket("b1") == created
    assert store.get_bucket("nope") is None


def test_list_buckets_by_owner_in_name_order(store: Store) -> None:
    for name in ("b2", "B9", "b1"):
        bucket(store, name)
    bucket(store, "theirs", owner="other")
    assert [b.name for b in store.list_buckets(OWNER)] == ["B9", "b1", "b2"]
    assert [b.name for b in store.list_buckets("other")] == ["theirs"]
    store.set_bucket_acl("b1", BucketAcl.PUBLIC_READ)
    got = store.get_bucket("b1")
    assert got is not None and got.acl is BucketAcl.PUBLIC_READ


def test_delete_bucket_refuses_objects_and_bindings(store: Store) -> None:
    bucket(store, "b1")
    store.put_object(obj("k", "blob-1"))
    assert store.delete_bucket("b1") == "objects"
    store.delete_object("b1", "k")
    bind(store, "www.example.com", "b1")
    assert store.delete_bucket("b1") == "bindings"
    store.delete_binding("b1", "www.example.com")
    token = CnameTokenRecord("b1", "x.example.com", "tok", T0, T0 + timedelta(days=3))
    store.issue_token(token, T0, 10)
    assert store.delete_bucket("b1") is None
    assert store.get_bucket("b1") is None
    assert store.get_token("b1", "x.example.com") is None
    bucket(store, "b1")  # the name is free again, with no old token
    assert store.get_token("b1", "x.example.com") is None


# --- tokens -------------------------------------------------------------------------------


def test_issue_token_keeps_the_valid_one_and_replaces_an_expired_one(store: Store) -> None:
    bucket(store, "b1")
    first = CnameTokenRecord("b1", "a.example.com", "tok-1", T0, T0 + timedelta(days=3))
    assert store.issue_token(first, T0, 10) == first
    second = CnameTokenRecord("b1", "a.example.com", "tok-2", T0 + timedelta(days=1),
                              T0 + timedelta(days=4))
    assert store.issue_token(second, T0 + timedelta(days=1), 10) == first
    later = T0 + timedelta(days=3)  # expires_at <= now: expired
    third = CnameTokenRecord("b1", "a.example.com", "tok-3", later, later + timedelta(days=3))
    assert store.issue_token(third, later, 10) == third
    got = store.get_token("b1", "a.example.com")
    assert got == third and got is not None
    assert got.expires_at.isoformat() == third.expires_at.isoformat()
    assert store.get_token("b1", "other.example.com") is None


def test_issue_token_limits_valid_tokens_per_bucket(store: Store) -> None:
    bucket(store, "b1")
    bucket(store, "b2")
    for i in range(2):
        token = CnameTokenRecord("b1", f"d{i}.example.com", f"t{i}", T0, T0 + timedelta(hours=1))
        assert store.issue_token(token, T0, 2) == token
    extra = CnameTokenRecord("b1", "d9.example.com", "t9", T0, T0 + timedelta(hours=1))
    assert store.issue_token(extra, T0, 2) is None
    other = CnameTokenRecord("b2", "d9.example.com", "t9", T0, T0 + timedelta(hours=1))
    assert store.issue_token(other, T0, 2) == other  # the limit is per bucket
    later = T0 + timedelta(hours=1)  # both b1 tokens expired now: purged, not counted
    assert store.issue_token(extra, later, 2) == extra
    assert store.get_token("b1", "d0.example.com") is None


# --- bindings and certificates ------------------------------------------------------------


def test_apply_binding_creates_lists_and_counts(store: Store) -> None:
    bucket(store, "b1")
    bucket(store, "b2")
    made = bind(store, "z.example.com", "b1")
    assert (made.domain, made.bucket) == ("z.example.com", "b1")
    assert made.status is BindingStatus.ENABLED
    assert made.created_at == made.last_modified == T0
    assert made.cert_id is None and made.cert_attached_at is None and made.certificate is None
    bind(store, "a.example.com", "b1", at=T0 + timedelta(seconds=1))
    bind(store, "m.example.com", "b2")
    assert store.get_binding("z.example.com") == made
    assert [b.domain for b in store.list_bindings("b1")] == ["z.example.com", "a.example.com"]
    assert [b.domain for b in store.all_bindings()] == ["z.example.com", "a.example.com",
                                                        "m.example.com"]
    assert (store.count_bindings("b1"), store.count_bindings("b2"),
            store.count_bindings("none")) == (2, 1, 0)
    assert store.get_binding("nope.example.com") is None


def test_a_domain_belongs_to_one_bucket(store: Store) -> None:
    bucket(store, "b1")
    bucket(store, "b2")
    bind(store, "www.example.com", "b1")
    with pytest.raises(DomainTaken) as taken:
        bind(store, "www.example.com", "b2")
    assert (taken.value.domain, taken.value.bucket) == ("www.example.com", "b1")
    with pytest.raises(DomainTaken) as taken:
        bind(store, "www.example.com", "b2", is_new=False, cert_action="detach")
    assert taken.value.bucket == "b1"
    with pytest.raises(DomainTaken) as taken:
        bind(store, "gone.example.com", "b1", is_new=False)
    assert taken.value.bucket == ""
    assert [b.domain for b in store.list_bindings("b2")] == []


def test_binding_to_a_missing_bucket_is_refused(store: Store) -> None:
    with pytest.raises(DomainTaken) as taken:
        bind(store, "www.example.com", "no-such-bucket")
    assert taken.value.bucket == ""
    assert store.get_binding("www.example.com") is None


def test_certificate_attach_and_detach(store: Store) -> None:
    bucket(store, "b1")
    bind(store, "www.example.com", "b1")
    cert = certificate()
    later = T0 + timedelta(minutes=5)
    attached = bind(store, "www.example.com", "b1", at=later, is_new=False,
                    cert_action="attach", cert_id=cert.cert_id, new_certificate=cert)
    assert attached.cert_id == "cert-1" and attached.cert_attached_at == later
    assert attached.last_modified == later and attached.created_at == T0
    assert attached.certificate == cert
    assert BOX.decrypt(attached.certificate.key_sealed, context=b"cert") == b"private key"
    assert store.get_certificate("cert-1") == cert
    assert store.get_certificate("nope") is None
    # the same certificate uploaded again is kept, not duplicated or replaced
    bind(store, "www.example.com", "b1", at=later, is_new=False, cert_action="attach",
         cert_id=cert.cert_id, new_certificate=certificate())
    assert store.get_certificate("cert-1") == cert
    detached = bind(store, "www.example.com", "b1", at=later + timedelta(minutes=1),
                    is_new=False, cert_action="detach")
    assert detached.cert_id is None and detached.certificate is None
    assert detached.cert_attached_at is None
    assert store.get_certificate("cert-1") == cert  # detaching keeps the certificate


def test_a_failed_bind_writes_nothing(store: Store) -> None:
    bucket(store, "b1")
    bucket(store, "b2")
    bind(store, "www.example.com", "b1")
    version = store.versions()["bindings"]
    with pytest.raises(DomainTaken):
        bind(store, "www.example.com", "b2", new_certificate=certificate("never"))
    assert store.get_certificate("never") is None
    assert store.versions()["bindings"] == version


def test_changes_since_names_changed_domains(store: Store) -> None:
    bucket(store, "b1")
    assert store.changes_since(0) == (0, [])
    bind(store, "b.example.com", "b1")
    bind(store, "a.example.com", "b1")
    newest, domains = store.changes_since(0)
    assert (newest, domains) == (2, ["a.example.com", "b.example.com"])
    bind(store, "a.example.com", "b1", is_new=False)  # keep: nothing changed
    assert store.changes_since(newest) == (newest, [])
    assert store.delete_binding("b1", "b.example.com")
    assert not store.delete_binding("b1", "b.example.com")
    assert not store.delete_binding("other", "a.example.com")
    assert store.changes_since(newest) == (3, ["b.example.com"])
    assert store.versions()["bindings"] == 3
    assert [b.domain for b in store.all_bindings()] == ["a.example.com"]


def test_racing_binds_of_one_domain_give_one_winner(open_store: OpenStore) -> None:
    """Two store instances (two processes) bind the same domain to different buckets at once."""
    first, second = open_store(), open_store()
    bucket(first, "b1")
    bucket(first, "b2")
    for i in range(8):
        domain = f"race{i}.example.com"
        results = race(partial(bind, first, domain, "b1"), partial(bind, second, domain, "b2"))
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], DomainTaken)
        assert losers[0].bucket == winners[0].bucket
        assert first.get_binding(domain) == second.get_binding(domain) == winners[0]
    newest, domains = second.changes_since(0)
    assert newest == 8 and len(domains) == 8
    assert sorted(b.domain for b in first.all_bindings()) == domains


# --- objects ------------------------------------------------------------------------------


def test_put_object_replaces_and_returns_the_old_blob(store: Store) -> None:
    bucket(store, "b1")
    first = obj("dir/a.txt", "blob-1", user_meta=(("x-oss-meta-a", "1"),),
                headers=(("Cache-Control", "no-cache"),))
    assert store.put_object(first) is None
    assert store.get_object("b1", "dir/a.txt") == first
    second = obj("dir/a.txt", "blob-2")
    assert store.put_object(second) == "blob-1"
    assert store.get_object("b1", "dir/a.txt") == second
    assert store.delete_object("b1", "dir/a.txt") == "blob-2"
    assert store.delete_object("b1", "dir/a.txt") is None
    assert store.get_object("b1", "dir/a.txt") is None


def test_server_values_first_writer_wins(store: Store) -> None:
    assert store.get_server_value("tls-default") is None
    assert store.put_server_value_if_absent("tls-default", b"first") == b"first"
    assert store.put_server_value_if_absent("tls-default", b"second") == b"first"
    assert store.get_server_value("tls-default") == b"first"
    assert store.get_server_value("other") is None


def test_put_object_if_absent_refuses_an_existing_key(store: Store) -> None:
    bucket(store, "b1")
    assert store.put_object(obj("k", "blob-1"), if_absent=True) is None
    with pytest.raises(ObjectExists):
        store.put_object(obj("k", "blob-2"), if_absent=True)
    assert store.get_object("b1", "k") == obj("k", "blob-1")
    store.create_upload(upload("k", "U1"))
    store.put_part(part("U1", 1, "p1"))
    with pytest.raises(ObjectExists):  # the whole completion rolls back: upload kept
        store.complete_upload("b1", "k", "U1", obj("k", "new-blob"), if_absent=True)
    assert store.get_upload("b1", "k", "U1") is not None
    assert store.get_object("b1", "k") == obj("k", "blob-1")


def test_put_object_into_a_missing_bucket(store: Store) -> None:
    with pytest.raises(BucketMissing):
        store.put_object(obj("k", "blob", bucket_name="nope"))


def test_list_objects_in_code_point_order_with_prefix_after_limit(store: Store) -> None:
    bucket(store, "b1")
    keys = ["a", "a/b", "a/c", "a0", "B", "é", "中", "😀", "a\uffff", "ab"]
    for i, key in enumerate(keys):
        store.put_object(obj(key, f"blob-{i}"))

    def names(prefix: str = "", after: str = "", limit: int = 100) -> list[str]:
        return [o.key for o in store.list_objects("b1", prefix, after, limit)]

    assert names() == sorted(keys)  # Python sorts str by code point
    assert names() == ["B", "a", "a/b", "a/c", "a0", "ab", "a\uffff", "é", "中", "😀"]
    assert names("a/") == ["a/b", "a/c"]
    assert names("a", after="a/b", limit=3) == ["a/c", "a0", "ab"]
    assert names("a\uffff") == ["a\uffff"]
    assert names("zz") == []
    assert names(limit=2) == ["B", "a"]


def test_racing_puts_return_each_replaced_blob_once(open_store: OpenStore) -> None:
    stores = [open_store() for _ in range(4)]  # a store is used by one thread at a time
    first = stores[0]
    bucket(first, "b1")
    first.put_object(obj("k", "blob-0"))
    results = race(*[partial(s.put_object, obj("k", f"blob-{n}"))
                     for n, s in enumerate(stores, start=1)])
    assert not [r for r in results if isinstance(r, Exception)], results
    final = first.get_object("b1", "k")
    assert final is not None
    # every blob but the surviving one was handed back exactly once
    assert sorted(results + [final.blob]) == [f"blob-{n}" for n in range(5)]


# --- multipart uploads --------------------------------------------------------------------


def upload(key: str, upload_id: str, bucket_name: str = "b1", **extra: Any) -> MultipartUpload:
    return MultipartUpload(upload_id, bucket_name, key, T0, "video/mp4", **extra)


def part(upload_id: str, number: int, blob: str, size: int = 3) -> PartRecord:
    return PartRecord(upload_id, number, size, f'"ETAG{number}"', T0, blob)


def test_uploads_and_parts_round_trip(store: Store) -> None:
    bucket(store, "b1")
    made = upload("dir/movie.mp4", "U1", user_meta=(("x-oss-meta-a", "1"),),
                  headers=(("cache-control", "no-cache"),))
    store.create_upload(made)
    assert store.get_upload("b1", "dir/movie.mp4", "U1") == made
    assert store.get_upload("b1", "other-key", "U1") is None  # an id is its key's only
    assert store.get_upload("b2", "dir/movie.mp4", "U1") is None
    for number in (3, 1, 2):
        assert store.put_part(part("U1", number, f"p{number}")) is None
    assert store.put_part(part("U1", 2, "p2-again", size=5)) == "p2"  # replaced
    assert [(p.part_number, p.blob) for p in store.list_parts("U1", 0, 100)] == [
        (1, "p1"), (2, "p2-again"), (3, "p3")]
    assert store.list_parts("U1", 1, 1) == [part("U1", 2, "p2-again", size=5)]
    assert store.list_parts("U1", 3, 100) == []
    with pytest.raises(UploadMissing):
        store.put_part(part("nope", 1, "x"))


def test_create_upload_in_a_missing_bucket(store: Store) -> None:
    with pytest.raises(BucketMissing):
        store.create_upload(upload("k", "U1", bucket_name="nope"))


def test_complete_upload_writes_the_object_and_ends_the_upload(store: Store) -> None:
    bucket(store, "b1")
    store.put_object(obj("k", "old-blob"))
    store.create_upload(upload("k", "U1"))
    store.put_part(part("U1", 1, "p1"))
    store.put_part(part("U1", 2, "p2"))
    meta = obj("k", "new-blob", object_type=ObjectType.MULTIPART)
    assert store.complete_upload("b1", "k", "U1", meta) == ("old-blob", ["p1", "p2"])
    assert store.get_object("b1", "k") == meta
    assert store.get_upload("b1", "k", "U1") is None
    assert store.list_parts("U1", 0, 100) == []
    with pytest.raises(UploadMissing):
        store.complete_upload("b1", "k", "U1", meta)
    with pytest.raises(UploadMissing):
        store.put_part(part("U1", 3, "late"))
    assert store.get_object("b1", "k") == meta


def test_complete_upload_of_another_key_is_refused(store: Store) -> None:
    bucket(store, "b1")
    store.create_upload(upload("k", "U1"))
    with pytest.raises(UploadMissing):
        store.complete_upload("b1", "other", "U1", obj("other", "blob"))
    assert store.get_object("b1", "other") is None
    assert store.get_upload("b1", "k", "U1") is not None


def test_abort_upload_returns_the_part_blobs(store: Store) -> None:
    bucket(store, "b1")
    store.create_upload(upload("k", "U1"))
    store.put_part(part("U1", 2, "p2"))
    store.put_part(part("U1", 1, "p1"))
    assert store.abort_upload("b1", "k", "U1") == ["p1", "p2"]
    assert store.abort_upload("b1", "k", "U1") is None
    assert store.list_parts("U1", 0, 100) == []
    store.create_upload(upload("k", "U2"))
    assert store.abort_upload("b1", "k", "U2") == []


def test_list_uploads_in_key_then_id_order_after_markers(store: Store) -> None:
    bucket(store, "b1")
    bucket(store, "b2")
    for key, upload_id in [("b/x", "U2"), ("a", "U5"), ("b/x", "U1"), ("é", "U3"),
                           ("B", "U4")]:
        store.create_upload(upload(key, upload_id))
    store.create_upload(upload("a", "U9", bucket_name="b2"))

    def listed(prefix: str = "", key: str = "", upload_id: str = "",
               limit: int = 100) -> list[tuple[str, str]]:
        return [(u.key, u.upload_id)
                for u in store.list_uploads("b1", prefix, key, upload_id, limit)]

    everything = [("B", "U4"), ("a", "U5"), ("b/x", "U1"), ("b/x", "U2"), ("é", "U3")]
    assert listed() == everything
    assert listed(limit=2) == everything[:2]
    assert listed(key="b/x", upload_id="U1") == everything[3:]
    assert listed(key="b/x", upload_id="\U0010ffff") == everything[4:]
    assert listed(prefix="b/") == everything[2:4]
    assert listed(prefix="zz") == []


def test_delete_bucket_refuses_uploads_in_progress(store: Store) -> None:
    bucket(store, "b1")
    store.create_upload(upload("k", "U1"))
    assert store.delete_bucket("b1") == "uploads"
    store.abort_upload("b1", "k", "U1")
    assert store.delete_bucket("b1") is None


def test_racing_part_uploads_and_completion(open_store: OpenStore) -> None:
    """Parts of one number racing each other and a completion: every blob is handed back to
    exactly one caller, and the parts a completion removes are the ones it returns."""
    stores = [open_store() for _ in range(5)]
    first = stores[0]
    bucket(first, "b1")
    first.create_upload(upload("k", "U1"))
    first.put_part(part("U1", 1, "p-0"))
    calls: list[Any] = [partial(s.put_part, part("U1", 1, f"p-{n}"))
                        for n, s in enumerate(stores[1:4], start=1)]
    calls.append(partial(stores[4].complete_upload, "b1", "k", "U1",
                         obj("k", "object-blob", object_type=ObjectType.MULTIPART)))
    results = race(*calls)
    handed_back: list[str] = []
    stored = ["p-0"]
    for n, result in enumerate(results[:3], start=1):
        if isinstance(result, UploadMissing):
            continue  # arrived after the completion: the caller deletes its own blob
        assert not isinstance(result, Exception), result
        handed_back.append(result)
        stored.append(f"p-{n}")
    replaced, part_blobs = results[3]
    assert replaced is None and len(part_blobs) == 1
    assert sorted(handed_back + part_blobs) == sorted(stored)
