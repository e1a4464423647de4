"""Failure paths of the exports: locked encrypted images, undecodable pages, pages without a layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanstation.custody import protection
from scanstation.errors import Refused
from scanstation.export import copies, eep, ofd
from scanstation.export.catalog_export import export_catalog
from scanstation.transfer import keys
from tests.export_fixtures import add_ocr_dossier, stored_text

N1 = "X001-ZY·DJ·2024·D100-0001-001"
PROTECT = "a long protection passphrase"


def _audits(home) -> int:
    return home.catalog.one("SELECT COUNT(*) AS c FROM audit_log WHERE action LIKE 'export.%'")["c"]


def test_r40_locked_encrypted_images_refuse_every_export_and_write_nothing(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    keys.generate(sessions["admin"], "station", "sm2", "station key passphrase")
    signer = keys.signer(home, "station", "station key passphrase")
    protection.enable(sessions["admin"], PROTECT)
    protection.enable_images(sessions["admin"])
    protection.forget(home)
    try:
        attempts = [
            lambda: copies.export_copies(sessions["clerk1"], [N1], tmp_path / "pdf", "pdf"),
            lambda: copies.export_copies(sessions["clerk1"], [N1], tmp_path / "ofd", "ofd"),
            lambda: export_catalog(sessions["clerk1"], tmp_path / "c.csv", "csv", tmp_path / "images"),
            lambda: eep.export_eep(sessions["clerk1"], [N1], tmp_path / "eep", signer),
        ]
        for attempt in attempts:
            with pytest.raises(Refused) as exc:
                attempt()
            assert "SCANSTATION_PROTECT_PASSPHRASE" in exc.value.en and "保护口令" in exc.value.zh
        assert not any(tmp_path.glob("pdf/*")) and not any(tmp_path.glob("ofd/*")) and not any(tmp_path.glob("eep/*"))
        assert not (tmp_path / "c.csv").exists() and not (tmp_path / "images").exists()
        assert not (tmp_path / "images.part").exists()
        assert _audits(home) == 0
        protection.remember(home, protection.unlock(home, PROTECT))  # unlocked: the same exports work
        for attempt in attempts:
            attempt()
        assert _audits(home) == 4
    finally:
        protection.forget(home)


def test_undecodable_page_is_refused_with_what_to_do(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    (Path(home.path) / "images" / N1 / f"{N1}-0002.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for fmt in ("pdf", "ofd"):
        with pytest.raises(Refused) as exc:
            copies.export_copies(sessions["clerk1"], [N1], tmp_path / fmt, fmt)
        assert f"Page 2 of {N1} cannot be decoded" in exc.value.en and "fixity check" in exc.value.en
        assert not any(tmp_path.glob(f"{fmt}/*"))
    assert _audits(home) == 0


def test_ofd_page_without_layout_keeps_its_plain_text(home, sessions, tmp_path):
    row = add_ocr_dossier(home, N1, pages=1)
    home.catalog.conn.execute(
        "DELETE FROM page_layout WHERE page_id IN (SELECT id FROM pages WHERE dossier_id = ?)", (row["id"],)
    )
    result = copies.export_copies(sessions["clerk1"], [N1], tmp_path / "o", "ofd")
    assert result["files"][0]["pages_unpositioned"] == [1]
    text = ofd.read(result["files"][0]["file"])["pages"][0]["text"]
    assert "".join(text.split()) == "".join(stored_text(home, N1)[0].split())
