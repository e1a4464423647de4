"""Encryption at rest of personal data (R40): the catalog's personal fields and the page images.

Algorithm: AES-256-GCM through ``cryptography``'s ``AESGCM`` class. It is an authenticated (AEAD)
one-shot API in every ``cryptography`` wheel, built on OpenSSL's FIPS-validated AES-GCM, and runs on
the AES-NI / ARMv8 crypto instructions of the desktops the stations use.
SM4-GCM was checked and not chosen: with ``cryptography`` 50 on OpenSSL 3+ it does work, but only
through the low-level ``Cipher(algorithms.SM4(key), modes.GCM(nonce))`` streaming API, with no AEAD
class like ``AESGCM``, and only where the linked OpenSSL provides SM4-GCM (OpenSSL 3.0 added it; it is
absent from OpenSSL 1.1, from BoringSSL-based builds and from OpenSSL's FIPS provider), so a home
could become unreadable when moved to another build of the station. Common x86 desktops also have no
SM4 instructions. Every ciphertext names its algorithm, so SM4-GCM can be added as a second one if
a policy requires 国密 at rest.

Keys: a random 256-bit data key encrypts the data. It is stored only wrapped (AES-256-GCM) under a
key derived from an administrator's passphrase with argon2id (argon2-cffi, already used for
passwords), in ``keys/personal-data-key.json``. ``unlock(home, passphrase)`` returns the ``DataKey``
for a login; ``remember``/``unlocked_key`` keep it for the running process only.

Field values are stored as ``enc1:`` + base64url(nonce ‖ ciphertext ‖ tag) with the field name as
associated data, so a value cannot be moved to another field. Looking a person up by ID number works
through ``personal_index``: a keyed hash (HMAC-SHA256, key derived from the data key with HKDF) of the
number. Transfer packages are never encrypted (R31): the code that builds them reads the values
through ``reveal``/``DataKey.decrypt_field``.

Page images (``scanstation protect images``): once switched on, every page file the store writes is
``SSENC1`` + algorithm id + nonce + ciphertext+tag, and the files already stored are converted in
place, one atomic rewrite each. The catalog keeps the checksums of the plain images, so fixity,
sealing and receipts compare what a transfer package carries. Backups copy the encrypted files as
they are (restored byte for byte; the key file travels in ``keys/``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scanstation import settings
from scanstation.custody import search_sync
from scanstation.custody.key_registry import (  # noqa: F401
    FIELD_PREFIX,
    KEY_FILE,
    _unlocked,
    forget,
    is_encrypted,
    raise_locked,
    remember,
    unlocked_key,
    unlocked_key_for_path,
)
from scanstation.errors import InvalidInput, Refused, StorageError
from scanstation.home import now_iso
from scanstation.storage.files import PART_SUFFIX, write_atomic
from scanstation.storage.image_store import ENCRYPTED_MAGIC, ImageStore, PageCipher, is_encrypted_file

ALGORITHM = "AES-256-GCM"
PERSONAL_FIELDS = ("person_id_number", "person_name")
MIN_PASSPHRASE = 12
# argon2id cost: ~0.1-0.3 s and 64 MiB on a desktop; stored with the key so it can be raised later.
KDF_DEFAULTS = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 2}
FILE_MAGIC = ENCRYPTED_MAGIC  # header of an encrypted image file
IMAGES_SETTING = "protect.images"
_ALG_AES256GCM = 1
_NONCE = 12


@dataclass(frozen=True)
class DataKey:
    """The unwrapped data key of one home. Never written anywhere unwrapped."""

    key: bytes
    key_id: str

    def _aead(self) -> AESGCM:
        return AESGCM(self.key)

    # -- catalog fields ---------------------------------------------------------------
    def encrypt_field(self, field: str, value: str) -> str:
        if value is None or value == "" or is_encrypted(value):
            return value or ""
        nonce = os.urandom(_NONCE)
        sealed = self._aead().encrypt(nonce, str(value).encode("utf-8"), _field_aad(field))
        return FIELD_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt_field(self, field: str, value: str) -> str:
        """Plain text of a stored value; values that are not encrypted come back unchanged."""
        if not is_encrypted(value):
            return value or ""
        try:
            raw = base64.urlsafe_b64decode(value[len(FIELD_PREFIX) :].encode("ascii"))
            return self._aead().decrypt(raw[:_NONCE], raw[_NONCE:], _field_aad(field)).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise Refused(
                "A protected {field} value cannot be decrypted with this key (wrong home or damaged "
                "value). Restore the catalog from a backup.",
                "受保护的字段 {field} 无法用此密钥解密（不是本工作目录的密钥或数据已损坏）。请从备份恢复目录数据库。",
                field=field,
            ) from exc

    def index_token(self, id_number: str) -> str:
        """Keyed hash of an ID number for equality lookups without decrypting every row."""
        normal = (id_number or "").strip().upper()
        index_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"scanstation/id-number-index/v1"
        ).derive(self.key)
        return hmac.new(index_key, normal.encode("utf-8"), hashlib.sha256).hexdigest()

    # -- files ------------------------------------------------------------------------
    def encrypt_file_bytes(self, data: bytes) -> bytes:
        """An encrypted file: magic, algorithm id, nonce, ciphertext+tag. The name is not bound in:
        page files are renamed when pages are renumbered or a 档号 is corrected."""
        nonce = os.urandom(_NONCE)
        header = FILE_MAGIC + bytes([_ALG_AES256GCM])
        return header + nonce + self._aead().encrypt(nonce, data, header + _FILE_AAD)

    def decrypt_file_bytes(self, blob: bytes, name: str) -> bytes:
        """The plain bytes; ``name`` only names the file in messages."""
        if not is_encrypted_file(blob):
            return blob
        header = blob[: len(FILE_MAGIC) + 1]
        if header[-1] != _ALG_AES256GCM:
            raise InvalidInput(
                "The file {name} uses an unknown encryption (algorithm {a}).",
                "文件 {name} 使用了未知的加密算法（{a}）。",
                name=name,
                a=header[-1],
            )
        nonce = blob[len(header) : len(header) + _NONCE]
        try:
            return self._aead().decrypt(nonce, blob[len(header) + _NONCE :], header + _FILE_AAD)
        except InvalidTag as exc:
            raise Refused(
                "The encrypted file {name} was changed or belongs to another home; restore it from a backup.",
                "加密文件 {name} 已被修改或不属于本工作目录；请从备份恢复。",
                name=name,
            ) from exc


def _field_aad(field: str) -> bytes:
    return f"scanstation/field/{field}".encode()


_FILE_AAD = b"scanstation/page-file/v1"


def encrypt_field(key: DataKey, field: str, value: str) -> str:
    return key.encrypt_field(field, value)


def decrypt_field(key: DataKey | None, field: str, value: str) -> str:
    """Plain text of a stored value. Encrypted values need the unlocked key."""
    if not is_encrypted(value):
        return value or ""
    if key is None:
        raise_locked()
    return key.decrypt_field(field, value)


# -- key file ---------------------------------------------------------------------------
def key_path(home) -> Path:
    return Path(home.path) / "keys" / KEY_FILE


def is_enabled(home) -> bool:
    return key_path(home).exists()


def _derive(passphrase: str, salt: bytes, kdf: dict) -> bytes:
    if kdf.get("name") != "argon2id":
        raise InvalidInput(
            "The key file uses an unknown key derivation '{k}'.",
            "密钥文件使用了未知的密钥派生算法“{k}”。",
            k=kdf.get("name"),
        )
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=int(kdf["time_cost"]),
        memory_cost=int(kdf["memory_cost"]),
        parallelism=int(kdf["parallelism"]),
        hash_len=32,
        type=Type.ID,
    )


def _wrap_aad(fonds: str) -> bytes:
    return f"scanstation/data-key/v1/{fonds}".encode()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"scanstation/key-id/" + key).hexdigest()[:16]


def _write_key_file(home, key: bytes, passphrase: str, created: str) -> dict:
    salt, nonce = os.urandom(16), os.urandom(_NONCE)
    kek = _derive(passphrase, salt, KDF_DEFAULTS)
    wrapped = AESGCM(kek).encrypt(nonce, key, _wrap_aad(home.fonds))
    doc = {
        "format": 1,
        "algorithm": ALGORITHM,
        "kdf": {**KDF_DEFAULTS, "salt": base64.b64encode(salt).decode()},
        "nonce": base64.b64encode(nonce).decode(),
        "wrapped_key": base64.b64encode(wrapped).decode(),
        "key_id": _key_id(key),
        "created": created,
        "changed": now_iso(),
    }
    write_atomic(key_path(home), json.dumps(doc, indent=2).encode("utf-8"), private=True)
    return doc


def read_key_file(home) -> dict:
    path = key_path(home)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refused(
            "Personal-data protection is not enabled in this home. An administrator enables it with: "
            "scanstation protect enable",
            "本工作目录未启用个人信息加密保护。请管理员执行：scanstation protect enable",
        ) from None
    except (OSError, ValueError) as exc:
        raise StorageError(
            "The key file {path} cannot be read ({error}). Restore the keys folder from a backup.",
            "无法读取密钥文件 {path}（{error}）。请从备份恢复 keys 目录。",
            path=str(path),
            error=str(exc),
        ) from exc


def unlock(home, passphrase: str) -> DataKey:
    """The home's data key, unwrapped with the passphrase; Refused when the passphrase is wrong."""
    doc = read_key_file(home)
    try:
        kek = _derive(passphrase or "", base64.b64decode(doc["kdf"]["salt"]), doc["kdf"])
        key = AESGCM(kek).decrypt(
            base64.b64decode(doc["nonce"]), base64.b64decode(doc["wrapped_key"]), _wrap_aad(home.fonds)
        )
    except InvalidTag:
        raise Refused(
            "Wrong protection passphrase; the personal data stays locked.", "保护口令错误；个人信息仍处于锁定状态。"
        ) from None
    except (KeyError, ValueError, TypeError) as exc:
        raise StorageError(
            "The key file {path} is damaged ({error}). Restore the keys folder from a backup.",
            "密钥文件 {path} 已损坏（{error}）。请从备份恢复 keys 目录。",
            path=str(key_path(home)),
            error=str(exc),
        ) from exc
    return DataKey(key, doc.get("key_id") or _key_id(key))


def reveal(home, field: str, value: str) -> str:
    """Plain text of a stored personal value for code that needs it (transfer packages, lists)."""
    return decrypt_field(unlocked_key(home), field, value)


def store_value(home, field: str, value: str) -> str:
    """What to write into a personal field: encrypted when protection is on (needs the unlocked key)."""
    if field not in PERSONAL_FIELDS or not value or not is_enabled(home):
        return value or ""
    key = unlocked_key(home)
    if key is None:
        raise_locked()
    return key.encrypt_field(field, value)


# -- page images --------------------------------------------------------------------------
class HomePageCipher(PageCipher):
    """The image store's cipher for one home: the key unlocked at login, asked for when missing.
    Whether new files are encrypted is read when they are written, so a running station follows
    ``protect images`` at once."""

    def __init__(self, home):
        self.home = home

    @property
    def encrypting(self) -> bool:
        return images_encrypted(self.home)

    def _key(self) -> DataKey:
        key = unlocked_key(self.home)
        if key is None:
            raise_locked()
        return key

    def seal(self, data: bytes) -> bytes:
        return self._key().encrypt_file_bytes(data)

    def open(self, blob: bytes, name: str) -> bytes:
        return self._key().decrypt_file_bytes(blob, name)


def images_encrypted(home) -> bool:
    """Whether new page files of this home are written encrypted."""
    return is_enabled(home) and settings.get(home, IMAGES_SETTING) is True


def image_store(home) -> ImageStore:
    """The home's image store: encrypting when images are protected, able to read encrypted files
    (the key is asked for only when such a file is met)."""
    return ImageStore(home.path, HomePageCipher(home))


def page_files(home):
    """The home's page files for custody (lending, reading room, fixity, destruction), whichever backend
    holds them; on a SQLite home, files encrypted at rest are decrypted with the unlocked key."""
    return home.page_files(HomePageCipher(home))


def open_page_file(path) -> bytes:
    """The plain image in a page file, for code that has only its path (the GUI's thumbnails):
    the key is the one unlocked for the home the file belongs to."""
    path = Path(path)
    blob = path.read_bytes()
    if not is_encrypted_file(blob):
        return blob
    key = unlocked_key_for_path(path)
    if key is None:
        raise_locked()
    return key.decrypt_file_bytes(blob, path.name)


def _page_files(home):
    """Every page file at rest in the home: the live store and the kept originals."""
    for folder in ("images", "originals"):
        base = Path(home.path) / folder
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.name.endswith(PART_SUFFIX):
                    yield path


def _encrypt_stored_files(home, key: DataKey) -> dict:
    """Rewrite every plain page file encrypted (each one atomically); safe to run again after a stop."""
    converted = already = 0
    size = 0
    for path in _page_files(home):
        blob = path.read_bytes()
        if is_encrypted_file(blob):
            already += 1
            continue
        write_atomic(path, key.encrypt_file_bytes(blob))
        converted += 1
        size += len(blob)
    return {"files_encrypted": converted, "files_already_encrypted": already, "bytes_encrypted": size}


def enable_images(session) -> dict:
    """Switch on encryption of page images at rest and convert the files already stored.

    The switch commits first, so no page written afterwards is plain; the conversion then rewrites
    file by file, and running it again (or ``protect seal``) finishes a conversion that was stopped."""
    session.require("keys.manage")
    home = session.home
    read_key_file(home)  # says protection is not enabled
    key = unlocked_key(home)
    if key is None:
        raise_locked()
    was_on = images_encrypted(home)
    if not was_on:
        with session.change("keys.manage", "protect.images", "home", home.fonds) as ch:
            settings.store(ch.conn, IMAGES_SETTING, True)
            ch.after = {"images": "encrypted", "algorithm": ALGORITHM, "key_id": key.key_id}
    counts = _encrypt_stored_files(home, key)
    if counts["files_encrypted"]:
        with session.change("keys.manage", "protect.images.convert", "home", home.fonds) as ch:
            ch.after = counts
    return {"images_encrypted": True, "was_enabled": was_on, "key_id": key.key_id, **counts}


def _validate_passphrase(passphrase: str) -> str:
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise InvalidInput(
            "The protection passphrase must have at least {n} characters.",
            "保护口令至少需要 {n} 个字符。",
            n=MIN_PASSPHRASE,
        )
    return passphrase


# -- enabling and sealing -----------------------------------------------------------------
def enable(session, passphrase: str) -> dict:
    """Create the data key, encrypt every personal field in the catalog; one audited change."""
    session.require("keys.manage")
    _validate_passphrase(passphrase)
    home = session.home
    if is_enabled(home):
        raise Refused(
            "Personal-data protection is already enabled (key {k}).",
            "个人信息加密保护已启用（密钥 {k}）。",
            k=read_key_file(home).get("key_id", "?"),
        )
    raw = AESGCM.generate_key(bit_length=256)
    with session.change("keys.manage", "protect.enable", "home", home.fonds) as ch:
        doc = _write_key_file(home, raw, passphrase, now_iso())
        key = DataKey(raw, doc["key_id"])
        try:
            counts = _seal_rows(ch.conn, key)
        except BaseException:
            key_path(home).unlink(missing_ok=True)  # the transaction rolls back: no half-enabled home
            raise
        settings.store(ch.conn, "protect.enabled", True)
        ch.after = {"algorithm": ALGORITHM, "kdf": "argon2id", "key_id": doc["key_id"], **counts}
    remember(home, key)
    return {"key_id": doc["key_id"], "algorithm": ALGORITHM, **counts}


def seal(session, key: DataKey) -> dict:
    """Encrypt personal fields still in plain text (rows written by code that did not encrypt them)."""
    session.require("keys.manage")
    with session.change("keys.manage", "protect.seal", "home", session.home.fonds) as ch:
        counts = _seal_rows(ch.conn, key)
        ch.after = counts
    if images_encrypted(session.home):
        files = _encrypt_stored_files(session.home, key)
        if files["files_encrypted"]:
            with session.change("keys.manage", "protect.images.convert", "home", session.home.fonds) as ch:
                ch.after = files
        counts.update(files)
    return counts


def _seal_rows(conn, key: DataKey) -> dict:
    open_register = (
        "SELECT 1 FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id"
        " WHERE i.dossier_id = d.id AND r.state IN ('proposed', 'approved')"
    )
    rows = conn.execute(
        "SELECT d.id, d.person_id_number, d.person_name, EXISTS(" + open_register + ") AS locked FROM dossiers d"
        " WHERE d.status != 'destroyed' AND ((d.person_id_number != '' AND d.person_id_number NOT LIKE 'enc1:%')"
        " OR (d.person_name != '' AND d.person_name NOT LIKE 'enc1:%'))"
    ).fetchall()
    sealed = skipped = 0
    for dossier_id, id_number, name, locked in rows:
        if locked:  # R37 freezes it; it is sealed after the register closes (or blanked by destruction)
            skipped += 1
            continue
        conn.execute(
            "UPDATE dossiers SET person_id_number = ?, person_name = ? WHERE id = ?",
            (key.encrypt_field("person_id_number", id_number), key.encrypt_field("person_name", name), dossier_id),
        )
        if id_number and not is_encrypted(id_number):
            conn.execute(
                "INSERT INTO personal_index(dossier_id, id_number_token) VALUES (?, ?) "
                "ON CONFLICT(dossier_id) DO UPDATE SET id_number_token = excluded.id_number_token",
                (dossier_id, key.index_token(id_number)),
            )
        search_sync.reindex_dossier(conn, dossier_id)  # drop the plain-text tokens from the search index
        sealed += 1
    return {
        "sealed_rows": sealed,
        "skipped_rows_in_destruction_register": skipped,
        **search_sync.seal_page_text(conn, key),
    }  # OCR text and layouts: encrypted, keyed index


def change_passphrase(session, old: str, new: str) -> dict:
    session.require("keys.manage")
    key = unlock(session.home, old)
    _validate_passphrase(new)
    doc = read_key_file(session.home)
    with session.change("keys.manage", "protect.passphrase", "home", session.home.fonds) as ch:
        _write_key_file(session.home, key.key, new, doc.get("created", now_iso()))
        ch.after = {"key_id": key.key_id}
    return {"key_id": key.key_id}


def status(home) -> dict:
    enabled = is_enabled(home)
    counts = home.catalog.one(
        "SELECT sum(person_id_number LIKE 'enc1:%' OR person_name LIKE 'enc1:%') AS encrypted,"
        " sum((person_id_number != '' AND person_id_number NOT LIKE 'enc1:%')"
        " OR (person_name != '' AND person_name NOT LIKE 'enc1:%')) AS plain FROM dossiers"
    )
    out = {
        "enabled": enabled,
        "encrypted_rows": counts["encrypted"] or 0,
        "plaintext_rows": counts["plain"] or 0,
        "unlocked": unlocked_key(home) is not None,
        "images_encrypted": images_encrypted(home),
    }
    if enabled:
        doc = read_key_file(home)
        out.update(
            {
                "algorithm": doc.get("algorithm"),
                "kdf": doc.get("kdf", {}).get("name"),
                "key_id": doc.get("key_id"),
                "created": doc.get("created"),
                "changed": doc.get("changed"),
            }
        )
    return out


def find_by_id_number(home, key: DataKey | None, id_number: str) -> list[int]:
    """Dossier ids with this ID number, whether the catalog stores it in plain text or encrypted."""
    ids = [
        r["id"]
        for r in home.catalog.query("SELECT id FROM dossiers WHERE person_id_number = ?", (id_number.strip().upper(),))
    ]
    if key is not None:
        ids += [
            r["dossier_id"]
            for r in home.catalog.query(
                "SELECT dossier_id FROM personal_index WHERE id_number_token = ?", (key.index_token(id_number),)
            )
        ]
    return sorted(set(ids))


__all__ = [
    "ALGORITHM",
    "DataKey",
    "HomePageCipher",
    "PERSONAL_FIELDS",
    "change_passphrase",
    "decrypt_field",
    "enable",
    "enable_images",
    "encrypt_field",
    "find_by_id_number",
    "forget",
    "image_store",
    "page_files",
    "images_encrypted",
    "is_enabled",
    "is_encrypted",
    "is_encrypted_file",
    "open_page_file",
    "remember",
    "reveal",
    "seal",
    "status",
    "store_value",
    "unlock",
    "unlocked_key",
]
