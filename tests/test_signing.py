"""Station keys and signatures, with OpenSSL as the independent checker (R30)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from gmssl import sm2

from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.transfer import signing
from scanstation.transfer.signing import (
    KeyFile,
    TrustList,
    fingerprint,
    generate_key,
    key_algorithm,
    load_private_key,
    parse_public_key,
    verify,
)

PASSPHRASE = "档案室-2025-移交"
DATA = (
    b"7b50236a690e1392868c3af3f32a43f2d75b7d654af1e2ee0c043c3352f4e4a6  manifest-sha256.txt\n"
    b"63b154510ef7774c8adc2253cdea1edca2f44a601b9e0572f58755d53b9f8012  manifest-sm3.txt\n" * 40
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
SM2_OPTS = ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]


def openssl(*args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run([OPENSSL, *map(str, args)], capture_output=True, check=check, timeout=60)


@pytest.fixture(scope="module")
def sm2_key(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "station-sm2.json"
    generate_key("sm2", PASSPHRASE).save(path)
    return path


@pytest.fixture(scope="module")
def ed_key(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "station-ed25519.json"
    generate_key("ed25519", PASSPHRASE).save(path)
    return path


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("ascii"))
    return path


# -- SM2 against OpenSSL ----------------------------------------------------------------------


@needs_openssl
def test_r30_sm2_signature_verifies_with_openssl(sm2_key, tmp_path):
    signer = load_private_key(sm2_key, PASSPHRASE)
    assert signer.algorithm == "sm2"
    pub = write(tmp_path, "pub.pem", signer.public_pem)
    msg = write(tmp_path, "tagmanifest-sm3.txt", DATA)
    sig = write(tmp_path, "tagmanifest-sm3.txt.sig", signer.sign(DATA))
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", msg, "-sigfile", sig, *SM2_OPTS)
    assert b"Signature Verified Successfully" in ok.stdout
    tampered = write(tmp_path, "tampered.txt", DATA.replace(b"manifest-sm3", b"manifest-sm4", 1))
    bad = openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        pub,
        "-rawin",
        "-in",
        tampered,
        "-sigfile",
        sig,
        *SM2_OPTS,
        check=False,
    )
    assert bad.returncode != 0
    assert verify(signer.public_pem, DATA, sig.read_bytes())
    assert not verify(signer.public_pem, tampered.read_bytes(), sig.read_bytes())


@needs_openssl
def test_r30_sm2_public_key_pem_is_read_by_openssl(sm2_key, tmp_path):
    keyfile = KeyFile.load(sm2_key)
    pub = write(tmp_path, "pub.pem", keyfile.public_pem)
    text = openssl("pkey", "-pubin", "-in", pub, "-text", "-noout").stdout.decode()
    assert "ASN1 OID: SM2" in text
    point = "".join(text.split("pub:")[1].split("ASN1")[0].split()).replace(":", "")
    assert point == "04" + parse_public_key(keyfile.public_pem).raw.hex()
    der = openssl("pkey", "-pubin", "-in", pub, "-outform", "DER").stdout
    assert fingerprint(keyfile.public_pem) == keyfile.fingerprint == hashlib.new("sm3", der).hexdigest()


@needs_openssl
def test_r30_openssl_sm2_signature_verifies_with_ours(tmp_path):
    key = tmp_path / "key.pem"
    openssl("genpkey", "-algorithm", "SM2", "-out", key)
    pub_pem = openssl("pkey", "-in", key, "-pubout").stdout.decode()
    msg = write(tmp_path, "msg", DATA)
    sig = tmp_path / "sig"
    openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg, "-out", sig, *SM2_OPTS)
    assert key_algorithm(pub_pem) == "sm2"
    assert verify(pub_pem, DATA, sig.read_bytes())
    assert not verify(pub_pem, DATA + b"\n", sig.read_bytes())
    # The same key written with a compressed point is the same key (same fingerprint).
    compressed = openssl(
        "ec", "-pubin", "-in", write(tmp_path, "pub.pem", pub_pem), "-conv_form", "compressed", "-pubout"
    ).stdout.decode()
    assert compressed != pub_pem and fingerprint(compressed) == fingerprint(pub_pem)
    assert verify(compressed, DATA, sig.read_bytes())


def test_r30_sm2_signature_is_canonical_der_and_gmssl_agrees(sm2_key):
    signer = load_private_key(sm2_key, PASSPHRASE)
    first, second = signer.sign(DATA), signer.sign(DATA)
    assert first != second  # a fresh random k each time
    r, s = decode_dss_signature(first)
    assert 1 <= r < signing._N and 1 <= s < signing._N
    # gmssl's own SM3-with-SM2 path (default ID) accepts what we produced with hashlib's SM3.
    raw = parse_public_key(signer.public_pem).raw.hex()
    engine = sm2.CryptSM2(private_key="", public_key="")
    engine.public_key = raw
    assert engine.verify_with_sm3(f"{r:064x}{s:064x}", DATA)
    assert not engine.verify_with_sm3(f"{r:064x}{s:064x}", DATA[:-1])


def test_r30_malformed_sm2_signatures_are_not_valid(sm2_key):
    signer = load_private_key(sm2_key, PASSPHRASE)
    good = signer.sign(DATA)
    r, s = decode_dss_signature(good)
    assert not verify(signer.public_pem, DATA, b"")
    assert not verify(signer.public_pem, DATA, b"\x30\x00")
    assert not verify(signer.public_pem, DATA, good + b"\x00")  # trailing bytes
    assert not verify(signer.public_pem, DATA, encode_dss_signature(r, s + signing._N))  # s out of range
    assert not verify(signer.public_pem, DATA, encode_dss_signature(r, signing._N - s))
    assert not verify(signer.public_pem, DATA, bytes.fromhex(f"{r:064x}{s:064x}"))  # raw r||s is not DER
    # BER with a redundant length byte: same numbers, but not the one DER form.
    ber = good[:1] + b"\x81" + bytes([good[1]]) + good[2:]
    assert decode_dss_signature(good) == (r, s)
    assert not verify(signer.public_pem, DATA, ber)


# -- Ed25519 ----------------------------------------------------------------------------------


@needs_openssl
def test_r30_ed25519_signature_verifies_with_openssl(ed_key, tmp_path):
    signer = load_private_key(ed_key, PASSPHRASE)
    assert signer.algorithm == "ed25519"
    pub = write(tmp_path, "pub.pem", signer.public_pem)
    msg = write(tmp_path, "msg", DATA)
    signature = signer.sign(DATA)
    assert len(signature) == 64
    sig = write(tmp_path, "sig", signature)
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", msg, "-sigfile", sig)
    assert b"Signature Verified Successfully" in ok.stdout
    bad = openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        pub,
        "-rawin",
        "-in",
        write(tmp_path, "other", DATA[1:]),
        "-sigfile",
        sig,
        check=False,
    )
    assert bad.returncode != 0
    assert verify(signer.public_pem, DATA, signature) and not verify(signer.public_pem, DATA[1:], signature)
    der = openssl("pkey", "-pubin", "-in", pub, "-outform", "DER").stdout
    assert signer.fingerprint == hashlib.new("sm3", der).hexdigest()


@needs_openssl
def test_r30_openssl_ed25519_signature_verifies_with_ours(tmp_path):
    key = tmp_path / "ed.pem"
    openssl("genpkey", "-algorithm", "ed25519", "-out", key)
    pub_pem = openssl("pkey", "-in", key, "-pubout").stdout.decode()
    sig = tmp_path / "sig"
    openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", write(tmp_path, "msg", DATA), "-out", sig)
    assert key_algorithm(pub_pem) == "ed25519"
    assert verify(pub_pem, DATA, sig.read_bytes()) and not verify(pub_pem, DATA + b"x", sig.read_bytes())


@needs_openssl
def test_other_key_types_are_refused(tmp_path):
    for args in (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], ["-algorithm", "RSA"]):
        key = tmp_path / "k.pem"
        openssl("genpkey", *args, "-out", key)
        pem = openssl("pkey", "-in", key, "-pubout").stdout.decode()
        with pytest.raises(InvalidInput):
            verify(pem, DATA, b"x")
    with pytest.raises(InvalidInput):
        fingerprint("not a key")


# -- key files --------------------------------------------------------------------------------


def test_r30_wrong_passphrase_is_refused(sm2_key, ed_key):
    for path in (sm2_key, ed_key):
        with pytest.raises(Refused) as caught:
            load_private_key(path, PASSPHRASE + "x")
        assert "passphrase" in caught.value.en and "口令" in caught.value.zh


def test_r30_private_key_is_never_stored_in_clear(sm2_key):
    signer = load_private_key(sm2_key, PASSPHRASE)
    text = sm2_key.read_text("utf-8")
    data = json.loads(text)
    private = signer._private
    assert private.hex() not in text.lower() and base64.b64encode(private).decode() not in text
    assert data["algorithm"] == "sm2" and data["kdf"]["name"] == "scrypt" and data["cipher"]["name"] == "aes-256-gcm"
    assert data["fingerprint"] == signer.fingerprint and data["public_key_pem"] == signer.public_pem
    if os.name == "posix":
        assert sm2_key.stat().st_mode & 0o077 == 0


def test_key_file_with_swapped_public_key_is_refused(sm2_key, tmp_path):
    other = generate_key("sm2", PASSPHRASE)
    data = json.loads(sm2_key.read_text("utf-8"))
    data["public_key_pem"], data["fingerprint"] = other.public_pem, other.fingerprint
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data), "utf-8")
    with pytest.raises(Refused):  # the ciphertext is bound to the original key's fingerprint
        load_private_key(forged, PASSPHRASE)
    (tmp_path / "junk.json").write_text("{not json", "utf-8")
    with pytest.raises(InvalidInput):
        load_private_key(tmp_path / "junk.json", PASSPHRASE)
    with pytest.raises(NotFound):
        load_private_key(tmp_path / "absent.json", PASSPHRASE)
    greedy = json.loads(sm2_key.read_text("utf-8"))
    greedy["kdf"].update(n=1 << 20, r=32)  # 4 GiB of scrypt memory: refused before deriving
    (tmp_path / "greedy.json").write_text(json.dumps(greedy), "utf-8")
    with pytest.raises(InvalidInput):
        load_private_key(tmp_path / "greedy.json", PASSPHRASE)


def test_generate_key_rejects_bad_requests():
    with pytest.raises(InvalidInput):
        generate_key("sm2", "short")
    with pytest.raises(InvalidInput):
        generate_key("rsa", PASSPHRASE)


# -- trust list -------------------------------------------------------------------------------


@needs_openssl
def test_r30_trust_list_matches_keys_by_fingerprint(sm2_key, ed_key, tmp_path):
    station = KeyFile.load(sm2_key)
    trust = TrustList()
    entry = trust.add("某某县社保局 扫描站 1", station.public_pem)
    assert entry.fingerprint == station.fingerprint and entry.algorithm == "sm2"
    saved = trust.save(tmp_path / "trust.json")
    loaded = TrustList.load(saved)
    # The same key re-exported by OpenSSL (different text, same key) is still trusted.
    reexported = openssl("pkey", "-pubin", "-in", write(tmp_path, "pub.pem", station.public_pem), "-pubout").stdout
    assert loaded.is_trusted(reexported.decode())
    assert not loaded.is_trusted(KeyFile.load(ed_key).public_pem)
    assert not loaded.is_trusted("garbage")
    with pytest.raises(Refused):
        loaded.add("某某县社保局 扫描站 1", KeyFile.load(ed_key).public_pem)
    assert loaded.remove(station.fingerprint) and not loaded.is_trusted(station.public_pem)
    folder = tmp_path / "trusted"
    folder.mkdir()
    write(folder, "station-a.pem", station.public_pem)
    from_folder = TrustList.load(folder)
    assert [k.name for k in from_folder] == ["station-a"] and from_folder.is_trusted(station.public_pem)
    assert len(TrustList.load(tmp_path / "missing.json")) == 0
    (tmp_path / "bad.json").write_text('{"format": "scanstation-trust-list", "keys": [{"name": "x"}]}', "utf-8")
    with pytest.raises(InvalidInput):
        TrustList.load(tmp_path / "bad.json")
