"""OFD (GB/T 33190) copies: structure, XML, namespaces, images and the text layer, read back by our
reader and by ofdkit (an independent OFD reader)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import ofdkit
import pytest

from scanstation.custody import protection
from scanstation.errors import InvalidInput
from scanstation.export import check, copies, ofd
from tests.export_fixtures import add_ocr_dossier, stored_text

N1 = "X001-ZY·DJ·2024·D100-0001-001"
NS = "{http://www.ofdspec.org/2016}"


@pytest.fixture
def exported(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2, title="参保人员社会保险登记表")
    result = copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "ofd")
    return Path(result["files"][0]["file"]), result


def _squash(text: str) -> str:
    return "".join(text.split())


def test_ofd_structure_and_namespaces(exported):
    target, _ = exported
    assert target.name == f"{N1}.ofd"
    with zipfile.ZipFile(target) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        for required in (
            "OFD.xml",
            "Doc_0/Document.xml",
            "Doc_0/PublicRes.xml",
            "Doc_0/DocumentRes.xml",
            "Doc_0/Pages/Page_0/Content.xml",
            "Doc_0/Pages/Page_1/Content.xml",
            "Doc_0/Res/image_1.jpg",
            "Doc_0/Res/image_2.jpg",
            "Doc_0/Res/font_1.ttf",
        ):
            assert required in names
        xml = {n: ET.fromstring(z.read(n)) for n in names if n.endswith(".xml")}
        assert all(n.isascii() for n in names)  # part names need no encoding flag
        assert all(z.read(n).startswith(b"<?xml version='1.0' encoding='UTF-8'?>") for n in xml)
    root = xml["OFD.xml"]
    assert root.tag == f"{NS}OFD" and root.get("Version") == "1.0" and root.get("DocType") == "OFD"
    assert root.find(f"{NS}DocBody/{NS}DocRoot").text == "Doc_0/Document.xml"
    info = root.find(f"{NS}DocBody/{NS}DocInfo")
    assert [c.tag.replace(NS, "") for c in info][:2] == ["DocID", "Title"]  # schema order
    assert info.find(f"{NS}Title").text == "参保人员社会保险登记表"
    customs = {c.get("Name"): c.text for c in info.iter(f"{NS}CustomData")}
    assert (
        customs["档号"] == N1 and customs["年度"] == "2024" and customs["页数"] == "2" and customs["全宗号"] == "X001"
    )
    doc = xml["Doc_0/Document.xml"]
    assert doc.tag == f"{NS}Document"
    common = doc.find(f"{NS}CommonData")
    assert [c.tag.replace(NS, "") for c in common] == ["MaxUnitID", "PageArea", "PublicRes", "DocumentRes"]
    pages = doc.findall(f"{NS}Pages/{NS}Page")
    assert [p.get("BaseLoc") for p in pages] == ["Pages/Page_0/Content.xml", "Pages/Page_1/Content.xml"]
    # every ID unique, MaxUnitID the largest
    ids = [int(e.get("ID")) for tree in xml.values() for e in tree.iter() if e.get("ID")]
    assert len(ids) == len(set(ids)) and int(common.find(f"{NS}MaxUnitID").text) == max(ids)
    # every element of every part is in the OFD namespace
    assert all(e.tag.startswith(NS) for tree in xml.values() for e in tree.iter())
    media = {m.get("ID"): m for m in xml["Doc_0/DocumentRes.xml"].iter(f"{NS}MultiMedia")}
    assert xml["Doc_0/DocumentRes.xml"].get("BaseLoc") == "Res"
    assert all(m.get("Type") == "Image" and m.get("Format") == "JPEG" for m in media.values())
    page = xml["Doc_0/Pages/Page_0/Content.xml"]
    layers = page.findall(f"{NS}Content/{NS}Layer")
    assert [ly.get("Type") for ly in layers] == ["Body", "Foreground"]
    image = layers[0].find(f"{NS}ImageObject")
    assert image.get("ResourceID") in media
    w, h = page.find(f"{NS}Area/{NS}PhysicalBox").text.split()[2:]
    assert image.get("CTM") == f"{w} 0 0 {h} 0 0" and image.get("Boundary") == f"0 0 {w} {h}"
    texts = layers[1].findall(f"{NS}TextObject")
    assert texts and all(t.get("Fill") == "false" for t in texts)  # invisible text layer
    fonts = {f.get("ID"): f for f in xml["Doc_0/PublicRes.xml"].iter(f"{NS}Font")}
    assert all(t.get("Font") in fonts for t in texts)
    # the font is embedded as a subset that has a glyph for every character of the text layer
    from fontTools.ttLib import TTFont

    font_file = next(iter(fonts.values())).find(f"{NS}FontFile").text
    with zipfile.ZipFile(target) as z:
        font_bytes = z.read(f"Doc_0/Res/{font_file}")
        used = {
            c
            for n in names
            if n.endswith("Content.xml")
            for code in ET.fromstring(z.read(n)).iter(f"{NS}TextCode")
            for c in code.text
            if not c.isspace()
        }
    cmap = TTFont(io.BytesIO(font_bytes)).getBestCmap()
    assert used and all(ord(c) in cmap for c in used) and len(font_bytes) < 400_000
    for t in texts:
        code = t.find(f"{NS}TextCode")
        if len(code.text) > 1:
            assert len(code.get("DeltaX").split()) == len(code.text) - 1


def test_ofd_images_are_the_masters(exported, home):
    target, result = exported
    store = protection.image_store(home)
    with zipfile.ZipFile(target) as z:
        for seq in (1, 2):
            assert z.read(f"Doc_0/Res/image_{seq}.jpg") == store.read_bytes(N1, f"{N1}-{seq:04d}.jpg")
            assert z.getinfo(f"Doc_0/Res/image_{seq}.jpg").compress_type == zipfile.ZIP_STORED
    assert result["files"][0]["images"] == {"jpeg-embedded": 2}


def test_ofd_text_is_recoverable(exported, home):
    target, _ = exported
    expected = stored_text(home, N1)
    ours = ofd.read(target)
    assert [_squash(p["text"]) for p in ours["pages"]] == [_squash(t) for t in expected]
    assert ours["metadata"]["档号"] == N1
    with ofdkit.open(target) as doc:  # an independent reader
        pages = [_squash(p.text()) for p in doc.pages]
        assert pages == [_squash(t) for t in expected]
        assert doc.info.title == "参保人员社会保险登记表"
    assert check.check_file(target)["ok"]


def test_ofd_check_reports_page_count_and_missing_text(home, sessions, tmp_path):
    row = add_ocr_dossier(home, N1, pages=2, declared=3)
    with home.catalog.write() as conn:
        conn.execute(
            "DELETE FROM page_layout WHERE page_id IN (SELECT id FROM pages WHERE dossier_id = ? AND seq = 2)",
            (row["id"],),
        )
        conn.execute(
            "DELETE FROM page_text WHERE page_id IN (SELECT id FROM pages WHERE dossier_id = ? AND seq = 2)",
            (row["id"],),
        )
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "o", "ofd")["files"][0]["file"])
    report = check.check_file(target)
    assert not report["ok"] and report["pages"] == 2 and report["declared_pages"] == 3
    assert report["pages_without_text"] == [2]
    assert any("页数为 3" in zh for _, zh in report["problems"])


def test_ofd_reader_refuses_bad_files(tmp_path):
    bad = tmp_path / "bad.ofd"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InvalidInput):
        ofd.read(bad)
    escape = tmp_path / "escape.ofd"
    with zipfile.ZipFile(escape, "w") as z:
        z.writestr(
            "OFD.xml",
            f'<ofd:OFD xmlns:ofd="{NS[1:-1]}"><ofd:DocBody><ofd:DocRoot>../../etc/passwd'
            "</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
    with pytest.raises(InvalidInput) as exc:
        ofd.read(escape)
    assert "leaves the package" in exc.value.en
    broken = tmp_path / "broken.ofd"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD")
    with pytest.raises(InvalidInput):
        ofd.read(broken)


def test_ofd_watermarked_copy(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=1)
    target = Path(
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "w", "ofd", watermark="仅供查阅")["files"][0]["file"]
    )
    import numpy as np
    from PIL import Image

    with zipfile.ZipFile(target) as z:
        marked = np.asarray(Image.open(io.BytesIO(z.read("Doc_0/Res/image_1.jpg"))).convert("L"), dtype=np.int16)
    master = np.asarray(
        Image.open(io.BytesIO(protection.image_store(home).read_bytes(N1, f"{N1}-0001.jpg"))).convert("L"),
        dtype=np.int16,
    )
    assert marked.shape == master.shape and (np.abs(marked - master) > 25).mean() > 0.01
