"""DA/T 48 EEP packages: parse, digests and the SM2 signature checked with OpenSSL; our verify."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from scanstation.cli.main import main
from scanstation.custody import protection
from scanstation.errors import ExitCode, InvalidInput, Refused
from scanstation.export import check, eep
from scanstation.transfer import keys
from tests.conftest import PASSWORD
from tests.test_custody_fixtures import add_dossier, number_for

KEY_PASSPHRASE = "station key passphrase"
SM2_OPTS = ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
N1 = number_for(2019, "D30", 1)


@pytest.fixture
def signer(home, sessions):
    keys.generate(sessions["admin"], "station", "sm2", KEY_PASSPHRASE)
    return keys.signer(home, "station", KEY_PASSPHRASE)


def _openssl(*args, check=True):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=check, timeout=60)


def test_eep_parses_with_dat46_metadata_and_images(home, sessions, signer, tmp_path):
    add_dossier(home, N1, year=2019, retention="D30", pages=3, title="参保人员登记表")
    result = eep.export_eep(sessions["clerk1"], [N1], tmp_path / "out", signer)
    target = Path(result["files"][0]["file"])
    assert target.name == f"{N1}.eep" and target.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = ET.parse(target).getroot()
    assert root.tag == "电子文件封装包" and root.findtext("版本") == "2009"
    assert [c.tag for c in root] == ["封装包格式描述", "版本", "被签名对象", "电子签名块"]
    signed = root.find("被签名对象")
    assert signed.get("eep版本") == "2009" and signed.findtext("封装包类型") == "原始型"
    entity = signed.find("封装内容/文件实体块/文件实体")
    assert entity.findtext("聚合层次") == "件"
    assert entity.findtext("档号/档号") == N1 and entity.findtext("档号/年度") == "2019"
    assert entity.findtext("档号/保管期限") == "D30" and entity.findtext("档号/件号") == "001"
    assert entity.findtext("内容描述/题名") == "参保人员登记表" and entity.findtext("形式特征/页数") == "3"
    encodings = entity.findall("文件数据/文档/文档数据/编码")
    store = protection.image_store(home)
    assert len(encodings) == 3
    for seq, enc in enumerate(encodings, start=1):
        data = base64.b64decode(enc.findtext("编码数据"))
        assert data == store.read_bytes(N1, f"{N1}-{seq:04d}.jpg")
        assert enc.findtext("反编码关键字") == "jpg" and enc.findtext("电子属性/格式信息") == "image/jpeg"
        assert enc.findtext("电子属性/计算机文件大小") == str(len(data))
    entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'export.eep'")
    assert entry["user"] == "clerk1" and signer.fingerprint in entry["after"]


def test_r30_eep_digests_and_signature_verify_with_openssl(home, sessions, signer, tmp_path):
    add_dossier(home, N1, year=2019, retention="D30", pages=2)
    target = Path(eep.export_eep(sessions["clerk1"], [N1], tmp_path / "one.eep", signer)["files"][0]["file"])
    root = ET.parse(target).getroot()
    for enc in root.iter("编码"):
        image = tmp_path / enc.findtext("电子属性/计算机文件名")
        image.write_bytes(base64.b64decode(enc.findtext("编码数据")))
        named = {d.get("算法"): d.text for d in enc.findall("电子属性/数字摘要")}
        assert _openssl("dgst", "-sm3", image).stdout.decode().strip().endswith(named["SM3"])
        assert _openssl("dgst", "-sha256", image).stdout.decode().strip().endswith(named["SHA-256"])
    sig = root.find("电子签名块/电子签名")
    assert sig.findtext("签名算法标识").startswith("SM2-with-SM3")
    # what is signed: the canonical (C14N 2.0) form of 被签名对象, made here independently of eep.py
    signed = ET.canonicalize(ET.tostring(root.find("被签名对象"), encoding="unicode")).encode("utf-8")
    (tmp_path / "signed.xml").write_bytes(signed)
    (tmp_path / "sig.der").write_bytes(base64.b64decode(sig.findtext("签名结果")))
    (tmp_path / "pub.pem").write_text(sig.findtext("证书块/证书"))
    ok = _openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        tmp_path / "pub.pem",
        "-rawin",
        "-in",
        tmp_path / "signed.xml",
        "-sigfile",
        tmp_path / "sig.der",
        *SM2_OPTS,
    )
    assert b"Signature Verified Successfully" in ok.stdout
    (tmp_path / "tampered.xml").write_bytes(signed.replace("参保".encode(), "退保".encode(), 1))
    bad = _openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        tmp_path / "pub.pem",
        "-rawin",
        "-in",
        tmp_path / "tampered.xml",
        "-sigfile",
        tmp_path / "sig.der",
        *SM2_OPTS,
        check=False,
    )
    assert bad.returncode != 0
    assert _openssl("pkey", "-pubin", "-in", tmp_path / "pub.pem", "-noout").returncode == 0
    report = eep.verify(target)
    assert report["ok"] and report["pages"] == 2 and report["signer"] == signer.fingerprint


def test_eep_verify_detects_tampering(home, sessions, signer, tmp_path):
    add_dossier(home, N1, year=2019, retention="D30", pages=2)
    target = Path(eep.export_eep(sessions["clerk1"], [N1], tmp_path / "o", signer)["files"][0]["file"])
    text = target.read_text("utf-8")
    # a metadata value changed: the signature no longer verifies
    changed = tmp_path / "changed.eep"
    changed.write_text(text.replace("<年度>2019</年度>", "<年度>2018</年度>", 1), "utf-8")
    report = eep.verify(changed)
    assert not report["ok"] and any("签名验证失败" in zh for _, zh in report["problems"])
    # an image replaced: its digest no longer matches (and the signature fails)
    root = ET.parse(target).getroot()
    enc = root.find(".//编码")
    data = bytearray(base64.b64decode(enc.findtext("编码数据")))
    data[-20] ^= 0xFF
    enc.find("编码数据").text = base64.b64encode(bytes(data)).decode()
    swapped = tmp_path / "swapped.eep"
    ET.ElementTree(root).write(swapped, encoding="UTF-8", xml_declaration=True)
    report = eep.verify(swapped)
    assert any("数字摘要与图像不符" in zh for _, zh in report["problems"])
    # not signed at all
    root = ET.parse(target).getroot()
    root.remove(root.find("电子签名块"))
    unsigned = tmp_path / "unsigned.eep"
    ET.ElementTree(root).write(unsigned, encoding="UTF-8", xml_declaration=True)
    assert any("未签名" in zh for _, zh in eep.verify(unsigned)["problems"])
    # untrusted key
    from scanstation.transfer.signing import TrustList

    report = eep.verify(target, trust=TrustList())
    assert not report["ok"] and report["trusted"] is False
    # not an EEP
    (tmp_path / "x.eep").write_text("<a/>")
    with pytest.raises(InvalidInput):
        eep.verify(tmp_path / "x.eep")
    (tmp_path / "y.eep").write_text("<a")
    with pytest.raises(InvalidInput):
        eep.verify(tmp_path / "y.eep")


def test_eep_page_count_against_declared(home, sessions, signer, tmp_path):
    add_dossier(home, N1, year=2019, retention="D30", pages=2)
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET declared_pages = 3 WHERE number = ?", (N1,))
    target = Path(eep.export_eep(sessions["clerk1"], [N1], tmp_path / "o", signer)["files"][0]["file"])
    report = check.check_file(target)
    assert not report["ok"] and any("页数为 3" in zh for _, zh in report["problems"])


def test_eep_roles_and_refusals(home, sessions, signer, tmp_path):
    add_dossier(home, N1, year=2019, retention="D30", pages=1)
    with pytest.raises(Refused):
        eep.export_eep(sessions["auditor1"], [N1], tmp_path / "o", signer)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / f"{N1}.eep").write_text("keep")
    with pytest.raises(Refused):
        eep.export_eep(sessions["clerk1"], [N1], tmp_path / "o", signer)
    assert (tmp_path / "o" / f"{N1}.eep").read_text() == "keep"
    assert home.catalog.one("SELECT COUNT(*) AS c FROM audit_log WHERE action = 'export.eep'")["c"] == 0


def test_cli_export_eep_and_verify(home, sessions, signer, tmp_path, monkeypatch, capsys):
    add_dossier(home, N1, year=2019, retention="D30", pages=2)
    home_path = str(home.path)
    home.close()
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", KEY_PASSPHRASE)
    out = tmp_path / "eep"
    code = main(
        ["--home", home_path, "--user", "clerk1", "--json", "export", "eep", N1, "--key", "station", "--out", str(out)]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["count"] == 1
    code = main(["--home", home_path, "--json", "export", "verify", data["files"][0]["file"]])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] and report["files"][0]["trusted"] is True  # the station's own key
    (tmp_path / "bad.eep").write_text(Path(data["files"][0]["file"]).read_text("utf-8").replace("D30", "D10"), "utf-8")
    assert main(["--home", home_path, "export", "verify", str(tmp_path / "bad.eep")]) == 1
    assert "签名验证失败" in capsys.readouterr().out
    code = main(
        [
            "--home",
            home_path,
            "--user",
            "auditor1",
            "export",
            "eep",
            N1,
            "--key",
            "station",
            "--out",
            str(tmp_path / "other"),
        ]
    )
    assert code == ExitCode.REFUSED and "export" in capsys.readouterr().err
    assert main(["--home", home_path, "export", "verify", str(tmp_path / "missing.pdf")]) == ExitCode.INVALID_INPUT
    assert "不存在" in capsys.readouterr().err
