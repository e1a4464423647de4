import base64
import csv
import json

import pytest

from scanstation.custody import personal_data, protection
from scanstation.errors import InvalidInput, Refused
from scanstation.id_number import mask as mask_id_number
from scanstation.id_number import mask_bank_number, mask_text
from tests.test_custody_fixtures import ID_NUMBER, OTHER_ID, add_dossier, number_for

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    """argon2id at a test cost (the key file records its parameters; the command-line test uses the real ones)."""
    monkeypatch.setattr(protection, "KDF_DEFAULTS", {**protection.KDF_DEFAULTS, "time_cost": 1, "memory_cost": 8192})


def _read(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_r40_masks():
    masked = mask_id_number(ID_NUMBER)
    assert masked != ID_NUMBER and masked.endswith(ID_NUMBER[-4:]) and "*" in masked and len(masked) == 18
    assert mask_bank_number("6222 0202 0011 2233 445") == "*" * 15 + "3445"
    text = mask_text(f"姓名张三，身份证 {ID_NUMBER}，银行卡 6222020200112233445，档号 X001-ZY·DJ·2010·D10-0001-001")
    assert ID_NUMBER not in text and "6222020200112233445" not in text
    assert "***************3445" in text and "X001-ZY·DJ·2010·D10-0001-001" in text
    hexdigest = "ab" + "1" * 20 + "cd"  # digits inside a hash are not an ID number
    assert mask_text(hexdigest) == hexdigest


def test_r40_catalog_export_masks_id_numbers(home, sessions, tmp_path):
    add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", person_id=ID_NUMBER)
    add_dossier(home, number_for(2019, "D30", 2), year=2019, retention="D30", person_id=OTHER_ID, person_name="李四")
    out = tmp_path / "catalog.csv"
    details = personal_data.export_catalog(sessions["admin"], out)
    raw = out.read_text(encoding="utf-8-sig")
    assert ID_NUMBER not in raw and OTHER_ID not in raw
    rows = _read(out)
    assert [r["身份证号"] for r in rows] == [mask_id_number(ID_NUMBER), mask_id_number(OTHER_ID)]
    assert [r["姓名"] for r in rows] == ["张三", "李四"] and rows[0]["已扫描页数"] == "2"
    assert details["masked"] and details["rows"] == 2
    last = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert last["action"] == "catalog.export" and json.loads(last["after"])["sha256"] == details["sha256"]

    with pytest.raises(Refused):  # admin has no personal.unmasked right
        personal_data.export_catalog(sessions["admin"], tmp_path / "full.csv", unmasked=True)
    with pytest.raises(Refused):  # a clerk may not export the whole catalog
        personal_data.export_catalog(sessions["clerk1"], tmp_path / "c.csv")
    personal_data.export_catalog(sessions["archivist1"], tmp_path / "full.csv", unmasked=True)
    assert [r["身份证号"] for r in _read(tmp_path / "full.csv")] == [ID_NUMBER, OTHER_ID]
    last = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert last["action"] == "catalog.export_unmasked" and last["user"] == "archivist1"
    with pytest.raises(InvalidInput):
        personal_data.export_catalog(sessions["admin"], tmp_path / "catalog.xlsx")


def test_r40_field_encryption_at_rest(home, sessions, tmp_path):
    row = add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", person_id=ID_NUMBER)
    with pytest.raises(Refused):
        protection.enable(sessions["archivist1"], PASSPHRASE)
    with pytest.raises(InvalidInput):
        protection.enable(sessions["admin"], "short")
    result = protection.enable(sessions["admin"], PASSPHRASE)
    assert result["sealed_rows"] == 1 and result["algorithm"] == "AES-256-GCM"
    stored = home.catalog.one("SELECT person_id_number, person_name FROM dossiers WHERE id = ?", (row["id"],))
    assert stored["person_id_number"].startswith("enc1:") and stored["person_name"].startswith("enc1:")
    assert ID_NUMBER not in json.dumps(stored)
    with pytest.raises(Refused):
        protection.enable(sessions["admin"], PASSPHRASE)

    protection.forget(home)
    with pytest.raises(Refused):
        protection.unlock(home, "wrong passphrase!!")
    key = protection.unlock(home, PASSPHRASE)
    assert key.decrypt_field("person_id_number", stored["person_id_number"]) == ID_NUMBER
    assert key.decrypt_field("person_name", stored["person_name"]) == "张三"
    with pytest.raises(Refused):  # bound to its field: cannot be moved to another
        key.decrypt_field("person_name", stored["person_id_number"])
    assert protection.find_by_id_number(home, key, ID_NUMBER) == [row["id"]]
    status = protection.status(home)
    assert status["enabled"] and status["encrypted_rows"] == 1 and status["plaintext_rows"] == 0

    # a masked export still works once unlocked, and is refused while locked
    with pytest.raises(Refused):
        personal_data.export_catalog(sessions["admin"], tmp_path / "locked.csv")
    protection.remember(home, key)
    personal_data.export_catalog(sessions["admin"], tmp_path / "open.csv")
    assert _read(tmp_path / "open.csv")[0]["身份证号"] == mask_id_number(ID_NUMBER)

    # rows written later in plain text are sealed on request
    add_dossier(home, number_for(2019, "D30", 2), year=2019, retention="D30", person_id=OTHER_ID)
    assert protection.seal(sessions["admin"], key)["sealed_rows"] == 1
    assert protection.status(home)["plaintext_rows"] == 0


def test_r40_ciphertext_checked_with_an_independent_aes_gcm(home, sessions):
    """pycryptodome's AES-GCM (not OpenSSL) decrypts what we stored: the format is standard."""
    AES = pytest.importorskip("Cryptodome.Cipher.AES")  # pycryptodomex: an AES-GCM independent of OpenSSL
    add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", person_id=ID_NUMBER)
    protection.enable(sessions["admin"], PASSPHRASE)
    key = protection.unlock(home, PASSPHRASE)
    token = home.catalog.one("SELECT person_id_number FROM dossiers")["person_id_number"]
    raw = base64.urlsafe_b64decode(token[len("enc1:") :])
    nonce, sealed = raw[:12], raw[12:]
    cipher = AES.new(key.key, AES.MODE_GCM, nonce=nonce)
    cipher.update(b"scanstation/field/person_id_number")
    assert cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]).decode() == ID_NUMBER
    assert len(key.key) == 32


def test_r40_file_encryption_and_passphrase_change(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    key = protection.unlock(home, PASSPHRASE)
    blob = key.encrypt_file_bytes(b"\xff\xd8 page bytes")
    assert protection.is_encrypted_file(blob) and b"page bytes" not in blob
    assert key.decrypt_file_bytes(blob, "N-0001.jpg") == b"\xff\xd8 page bytes"
    with pytest.raises(Refused):  # another home's key cannot open it
        protection.DataKey(bytes(32), "other").decrypt_file_bytes(blob, "N-0001.jpg")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(Refused):
        key.decrypt_file_bytes(bytes(tampered), "N-0001.jpg")
    protection.change_passphrase(sessions["admin"], PASSPHRASE, "another long passphrase")
    with pytest.raises(Refused):
        protection.unlock(home, PASSPHRASE)
    assert protection.unlock(home, "another long passphrase").key == key.key


def test_r40_correction_of_encrypted_id_number_and_audit_export(home, sessions, tmp_path):
    from scanstation.custody import audit_export, corrections

    row = add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", status="transferred")
    protection.enable(sessions["admin"], PASSPHRASE)
    protection.forget(home)
    with pytest.raises(Refused):  # locked: cannot write an encrypted field
        corrections.correct(sessions["archivist1"], row["number"], "person_id_number", OTHER_ID, "录入错误")
    key = protection.unlock(home, PASSPHRASE)
    protection.remember(home, key)
    corrections.correct(sessions["archivist1"], row["number"], "person_id_number", OTHER_ID, "录入错误")
    stored = home.catalog.one("SELECT person_id_number FROM dossiers WHERE id = ?", (row["id"],))["person_id_number"]
    assert stored.startswith("enc1:") and key.decrypt_field("person_id_number", stored) == OTHER_ID
    kept = corrections.history(home.catalog, row["id"])[0]
    assert kept["old_value"].startswith("enc1:") and kept["new_value"].startswith("enc1:")
    entry = home.catalog.one("SELECT before, after FROM audit_log WHERE action = 'dossier.correct_after_transfer'")
    assert ID_NUMBER not in entry["before"] and OTHER_ID not in entry["after"]  # encrypted in the trail too
    assert protection.find_by_id_number(home, key, OTHER_ID) == [row["id"]]

    audit_export.export(sessions["auditor1"], "csv", tmp_path / "auditor.csv")
    full = (tmp_path / "auditor.csv").read_text(encoding="utf-8-sig")
    assert ID_NUMBER in full and OTHER_ID in full
    audit_export.export(sessions["admin"], "csv", tmp_path / "admin.csv")
    masked = (tmp_path / "admin.csv").read_text(encoding="utf-8-sig")
    assert ID_NUMBER not in masked and OTHER_ID not in masked and mask_id_number(OTHER_ID) in masked
    protection.forget(home)
    audit_export.export(sessions["auditor1"], "csv", tmp_path / "locked.csv")
    locked = (tmp_path / "locked.csv").read_text(encoding="utf-8-sig")
    assert OTHER_ID not in locked and "encrypted" in locked
