"""Personal-data protection (R40), the custody side: switching it on for the catalog's personal
fields and the page images, sealing what was stored in plain text, changing the passphrase, and the
protection status.

The encryption itself (the data key, fields, files, the key file, the home's image store) is
infrastructure and lives in ``scanstation.storage.encryption``; its names are re-exported here for
the callers that speak of protection as a whole.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scanstation import settings
from scanstation.clock import now_iso
from scanstation.custody import search_sync
from scanstation.errors import InvalidInput, Refused
from scanstation.storage.encryption import (  # noqa: F401 (re-exported)
    _NONCE,
    ALGORITHM,
    FIELD_PREFIX,
    FILE_MAGIC,
    IMAGES_SETTING,
    KEY_FILE,
    PERSONAL_FIELDS,
    DataKey,
    HomePageCipher,
    _derive,
    _key_id,
    _unlocked,
    _wrap_aad,
    decrypt_field,
    encrypt_field,
    forget,
    image_store,
    images_encrypted,
    is_enabled,
    is_encrypted,
    is_encrypted_file,
    key_path,
    open_page_file,
    page_files,
    raise_locked,
    read_key_file,
    remember,
    reveal,
    store_value,
    unlock,
    unlocked_key,
    unlocked_key_for_path,
)
from scanstation.storage.files import PART_SUFFIX, write_atomic

MIN_PASSPHRASE = 12
# argon2id cost: ~0.1-0.3 s and 64 MiB on a desktop; stored with the key so it can be raised later.
KDF_DEFAULTS = {"name": "argon2id", "time_cost": 3, "memory_cost": 65536, "parallelism": 2}


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
