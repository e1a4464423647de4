"""Encryption at rest of personal data (R40): the catalog's personal fields and the page images.

Infrastructure of the storage layer: the data key, field and file encryption, the key file and the
home's image store (``image_store``). Switching protection on, sealing rows and changing the
passphrase are custody workflows (``scanstation.custody.protection``).

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

from scanstation.errors import InvalidInput, Refused, StorageError
from scanstation.storage.image_store import ENCRYPTED_MAGIC, ImageStore, PageCipher, is_encrypted_file
from scanstation.storage.key_registry import (  # noqa: F401
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

ALGORITHM = "AES-256-GCM"
PERSONAL_FIELDS = ("person_id_number", "person_name")
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
    return is_enabled(home) and home.setting(IMAGES_SETTING) is True  # declared in scanstation.settings


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


__all__ = [
    "ALGORITHM",
    "DataKey",
    "FIELD_PREFIX",
    "HomePageCipher",
    "IMAGES_SETTING",
    "KEY_FILE",
    "PERSONAL_FIELDS",
    "decrypt_field",
    "encrypt_field",
    "forget",
    "image_store",
    "images_encrypted",
    "is_enabled",
    "is_encrypted",
    "is_encrypted_file",
    "key_path",
    "open_page_file",
    "raise_locked",
    "read_key_file",
    "remember",
    "reveal",
    "store_value",
    "unlock",
    "unlocked_key",
    "unlocked_key_for_path",
]
