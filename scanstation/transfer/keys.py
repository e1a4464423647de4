"""Signing keys of a home and the trust list of the other side's public keys (R30).

A station signs its packages with its own key; the archive room signs its receipts with its own.
Each side trusts the other's public key by importing it (``keys trust``). Private keys live in
``keys/signing/NAME.json``, encrypted under a passphrase (scanstation.transfer.signing); the trust
list is ``keys/trusted-keys.json``. Generating keys and changing the trust list is for administrators
and audited.
"""

from __future__ import annotations

import re
from pathlib import Path

from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.storage.files import write_atomic
from scanstation.transfer import signing

SIGNING_DIR = ("keys", "signing")
TRUST_FILE = ("keys", "trusted-keys.json")
PASSPHRASE_ENV = "SCANSTATION_KEY_PASSPHRASE"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def validate_key_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME_RE.fullmatch(name) or name.endswith("."):
        raise InvalidInput(
            "Key name '{name}' is not valid: use 1-64 letters, digits, '.', '-' or '_'.",
            "密钥名称“{name}”无效：只能使用 1-64 个字母、数字、“.”、“-”或“_”。",
            name=name,
        )
    return name


def key_dir(home) -> Path:
    return Path(home.path).joinpath(*SIGNING_DIR)


def key_path(home, name: str) -> Path:
    return key_dir(home) / f"{validate_key_name(name)}.json"


def trust_path(home) -> Path:
    return Path(home.path).joinpath(*TRUST_FILE)


def trust_list(home) -> signing.TrustList:
    return signing.TrustList.load(trust_path(home))


def passphrase(confirm: bool = False) -> str:
    """The key passphrase from SCANSTATION_KEY_PASSPHRASE or, on a terminal, a prompt."""
    from scanstation.users import password_from

    return password_from(PASSPHRASE_ENV, tr("Key passphrase: ", "密钥口令："), confirm=confirm)


def load_key(home, name: str) -> signing.KeyFile:
    path = key_path(home, name)
    if not path.exists():
        raise NotFound(
            "There is no signing key named {name} in this home. Create it: scanstation keys generate {name}",
            "本工作目录中没有名为 {name} 的签名密钥。请先生成：scanstation keys generate {name}",
            name=name,
        )
    return signing.KeyFile.load(path)


def signer(home, name: str, passphrase_text: str) -> signing.Signer:
    return load_key(home, name).signer(passphrase_text)


def generate(
    session: Session, name: str, algorithm: str = signing.DEFAULT_ALGORITHM, passphrase_text: str = ""
) -> dict:
    """A new key pair for this home (admin), its private key sealed under the passphrase."""
    session.require("keys.manage")
    path = key_path(session.home, name)
    if path.exists():
        raise Refused(
            "A key named {name} already exists; keys are never overwritten. Choose another name.",
            "已存在名为 {name} 的密钥；密钥不会被覆盖。请换一个名称。",
            name=name,
        )
    key = signing.generate_key(algorithm, passphrase_text)
    with session.change("keys.manage", "keys.generate", "key", name) as ch:
        key.save(path)
        ch.after = {"algorithm": key.algorithm, "fingerprint": key.fingerprint}
    return {"name": name, "algorithm": key.algorithm, "fingerprint": key.fingerprint, "path": str(path)}


def export(session: Session, name: str, out) -> dict:
    key = load_key(session.home, name)
    out = Path(out)
    write_atomic(out, key.public_pem.encode("ascii"))
    session.log("keys.export", "key", name, {"fingerprint": key.fingerprint, "file": out.name})
    return {"name": name, "algorithm": key.algorithm, "fingerprint": key.fingerprint, "file": str(out)}


def trust(session: Session, name: str, pem_file) -> dict:
    """Add the other side's public key to this home's trust list (admin, audited)."""
    session.require("keys.manage")
    pem_file = Path(pem_file)
    try:
        if pem_file.stat().st_size > 64 * 1024:
            raise InvalidInput(
                "{file} is too large to be a public key.", "{file} 太大，不可能是公钥文件。", file=str(pem_file)
            )
        pem = pem_file.read_text("ascii", "replace")
    except FileNotFoundError:
        raise NotFound("The file {file} does not exist.", "文件 {file} 不存在。", file=str(pem_file)) from None
    trusted = trust_list(session.home)
    with session.change("keys.manage", "keys.trust", "key", name) as ch:
        key = trusted.add(name, pem)
        trusted.save(trust_path(session.home))
        ch.after = {"algorithm": key.algorithm, "fingerprint": key.fingerprint}
    return {"name": key.name, "algorithm": key.algorithm, "fingerprint": key.fingerprint}


def untrust(session: Session, name: str) -> dict:
    session.require("keys.manage")
    trusted = trust_list(session.home)
    with session.change("keys.manage", "keys.untrust", "key", name) as ch:
        if not trusted.remove(name):
            raise NotFound("No trusted key is named {name}.", "信任列表中没有名为 {name} 的公钥。", name=name)
        trusted.save(trust_path(session.home))
        ch.after = {"removed": name}
    return {"name": name, "removed": True}


def list_keys(home) -> dict:
    own = []
    folder = key_dir(home)
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            key = signing.KeyFile.load(path)
            own.append(
                {"name": path.stem, "algorithm": key.algorithm, "fingerprint": key.fingerprint, "created": key.created}
            )
        except Exception as exc:  # a damaged file is listed, not fatal for the listing
            own.append({"name": path.stem, "error": str(exc)})
    trusted = [
        {"name": k.name, "algorithm": k.algorithm, "fingerprint": k.fingerprint, "added": k.added}
        for k in trust_list(home)
    ]
    return {"signing": own, "trusted": trusted}


def trust_from_files(files) -> signing.TrustList:
    """A trust list from PEM files given on the command line (verify without a home)."""
    trusted = signing.TrustList()
    for f in files or ():
        p = Path(f)
        try:
            trusted.add(p.stem, p.read_text("ascii", "replace"))
        except FileNotFoundError:
            raise NotFound("The file {file} does not exist.", "文件 {file} 不存在。", file=str(p)) from None
    return trusted


__all__ = [
    "PASSPHRASE_ENV",
    "export",
    "generate",
    "key_path",
    "list_keys",
    "load_key",
    "passphrase",
    "signer",
    "trust",
    "trust_from_files",
    "trust_list",
    "trust_path",
    "untrust",
    "validate_key_name",
]
