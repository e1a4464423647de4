"""Anchors of the audit chain: signed checkpoints of its head, kept outside the catalog (R36).

The SM3 chain (scanstation.audit) shows an edit of one row, but whoever can write the catalog file
can also re-chain every row after an edit or a deletion, or cut off the newest rows: the chain is
then consistent again. A checkpoint fixes the chain's head at a moment: ``{station, fonds, seq,
head}`` — the id of the last entry and its hash — signed with a signing key of the station (SM2 or
Ed25519; the private key is sealed under its passphrase, so a checkpoint cannot be forged without
it). Checkpoints are files, never catalog rows:

- ``audit-checkpoints/`` in the home (one file per checkpoint; backups copy the home, so every
  backup generation holds the checkpoints made before it);
- ``audit-checkpoint.json`` in every transfer package (made when the batch is sealed, listed in the
  tag manifests, so it is covered by the package signature and the archive room keeps it);
- every receipt: the archive room's checkpoint of its own chain when it decided, and the sender's
  checkpoint from the package, so the station holds a copy signed back to it (receipts kept in
  ``outbox/receipts`` are compared too).

``verify`` compares the catalog with each checkpoint whose signature is valid and whose key is one
of this home's signing keys or trusted keys: the entry ``seq`` must exist and carry hash ``head``.
A rewrite of any entry up to ``seq`` changes that hash (every hash covers all before it); deleting
the newest rows removes entry ``seq``. What a checkpoint cannot show — entries after the newest
checkpoint — is said in docs/audit-anchors.md.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.home import now_iso
from scanstation.storage.files import write_atomic

FORMAT = "scanstation-audit-checkpoint"
FOLDER = "audit-checkpoints"
PACKAGE_FILE = "audit-checkpoint.json"
MAX_FILE_BYTES = 16 * 1024 * 1024


def canonical(checkpoint: dict) -> bytes:
    return json.dumps(checkpoint, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, "0" * 64)


def make(home, signer, purpose: str, conn: sqlite3.Connection | None = None, *, save: bool = True) -> dict:
    """Sign the chain head now; kept in the home's checkpoint folder (``save``) and returned."""
    seq, digest = head(conn or home.catalog.conn)
    checkpoint = {
        "station": home.station,
        "fonds": home.fonds,
        "seq": seq,
        "head": digest,
        "algorithm": "SM3",
        "made_at": now_iso(),
        "purpose": purpose,
    }
    envelope = {
        "format": FORMAT,
        "version": 1,
        "checkpoint": checkpoint,
        "signature": {
            "algorithm": signer.algorithm,
            "fingerprint": signer.fingerprint,
            "public_key_pem": signer.public_pem,
            "value": base64.b64encode(signer.sign(canonical(checkpoint))).decode("ascii"),
            "covers": "canonical JSON of 'checkpoint' (UTF-8, sorted keys, separators ',' ':')",
        },
    }
    if save:
        folder = Path(home.path) / FOLDER
        stamp = checkpoint["made_at"][:19].replace(":", "").replace("-", "")
        name = f"{seq:010d}-{stamp}-{digest[:12]}"
        if getattr(getattr(home, "info", None), "backend", "sqlite") != "sqlite":
            name += f"-{os.getpid()}"  # several desks share a server archive's home: one file each
        write_atomic(folder / f"{name}.json", to_bytes(envelope))
    return envelope


def to_bytes(envelope: dict) -> bytes:
    return (json.dumps(envelope, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def create(session, key_name: str, passphrase: str) -> dict:
    """``scanstation audit checkpoint --key NAME``: an administrator anchors the chain now (audited)."""
    from scanstation.transfer import keys

    session.require("keys.manage")
    signer = keys.signer(session.home, key_name, passphrase)
    session.log(
        "audit.checkpoint", "audit_log", session.home.station, {"key": key_name, "fingerprint": signer.fingerprint}
    )
    envelope = make(session.home, signer, "manual")
    return envelope["checkpoint"] | {"fingerprint": signer.fingerprint}


# -- reading checkpoints from wherever they are kept ---------------------------------------------
def _is_envelope(data) -> bool:
    return (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("checkpoint"), dict)
        and isinstance(data.get("signature"), dict)
    )


def extract(data) -> list[dict]:
    """Checkpoint envelopes inside a checkpoint file or a receipt (sender's and receiver's)."""
    if _is_envelope(data):
        return [data]
    out = []
    if isinstance(data, dict) and isinstance(data.get("receipt"), dict):
        receipt = data["receipt"]
        for holder in (receipt.get("package"), receipt.get("receiver")):
            if isinstance(holder, dict):
                for key in ("audit_checkpoint", "sender_audit_checkpoint"):
                    if _is_envelope(holder.get(key)):
                        out.append(holder[key])
    return out


#: Where checkpoints sit inside a folder given to ``load``: a checkpoint or receipt folder, a package, a
#: home (its checkpoints and the receipts it keeps), a backup destination (one home copy per generation).
#: Only these places are looked at, so a backup of millions of page files is not walked.
PLACES = (
    "*.json",
    f"{FOLDER}/*.json",
    "outbox/receipts/*.json",
    f"*/{FOLDER}/*.json",
    f"*/{PACKAGE_FILE}",
    "*/outbox/receipts/*.json",
)


def load(path) -> list[dict]:
    """Checkpoints from a file (checkpoint or receipt JSON) or a folder (a package, a backup, a home)."""
    path = Path(path)
    if path.is_dir():
        files = sorted({p for pattern in PLACES for p in path.glob(pattern) if p.is_file() and not p.is_symlink()})
    else:
        files = [path]
    out = []
    for f in files:
        try:
            if f.stat().st_size > MAX_FILE_BYTES:
                continue
            data = json.loads(f.read_bytes().decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        for envelope in extract(data):
            out.append(dict(envelope, source=str(f)))
    return out


# -- comparing ------------------------------------------------------------------------------------
@dataclass
class AnchorResult:
    source: str
    seq: int
    made_at: str
    status: str  # ok | rewritten | truncated | bad_signature | unknown_key | other_station
    en: str = ""
    zh: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("rewritten", "truncated", "bad_signature")


@dataclass
class AnchorReport:
    results: list[AnchorResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.results)

    @property
    def anchored(self) -> int:
        return sum(r.status == "ok" for r in self.results)

    @property
    def latest_seq(self) -> int:
        return max((r.seq for r in self.results if r.status == "ok"), default=0)

    def failures(self) -> list[AnchorResult]:
        return [r for r in self.results if r.failed]


def own_keys(home) -> set[str]:
    """Fingerprints of the keys whose checkpoints this home accepts: its signing keys and trusted keys."""
    from scanstation.transfer import keys

    listed = keys.list_keys(home)
    return {k["fingerprint"] for k in listed["signing"] + listed["trusted"] if k.get("fingerprint")}


def compare(
    conn: sqlite3.Connection, envelope: dict, *, station: str, fonds: str, fingerprints: set[str]
) -> AnchorResult:
    from scanstation.transfer import signing

    cp, sig = envelope["checkpoint"], envelope["signature"]
    source = envelope.get("source", "")
    try:
        seq, made_at, digest = int(cp.get("seq", -1)), str(cp.get("made_at", "")), str(cp.get("head", ""))
    except (TypeError, ValueError):
        return AnchorResult(source, -1, "", "bad_signature", "The checkpoint is malformed.", "检查点格式错误。")
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
        valid = bool(value) and signing.verify(str(sig.get("public_key_pem", "")), canonical(cp), value)
        fingerprint = signing.fingerprint(str(sig.get("public_key_pem", "")))
    except Exception:
        valid, fingerprint = False, ""
    if not valid:
        return AnchorResult(
            source,
            seq,
            made_at,
            "bad_signature",
            f"The checkpoint of entry {seq} ({made_at}) has no valid signature: it was altered.",
            f"第 {seq} 条的检查点（{made_at}）签名无效：已被篡改。",
        )
    if cp.get("station") != station or cp.get("fonds") != fonds:
        return AnchorResult(
            source,
            seq,
            made_at,
            "other_station",
            f"checkpoint of station {cp.get('station')} (not this one)",
            f"其他站点（{cp.get('station')}）的检查点",
        )
    if fingerprint not in fingerprints:
        return AnchorResult(
            source,
            seq,
            made_at,
            "unknown_key",
            f"checkpoint signed by a key this home does not know ({fingerprint[:16]}…)",
            f"检查点的签名密钥不为本工作目录所知（{fingerprint[:16]}…）",
        )
    row = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (seq,)).fetchone() if seq > 0 else ("0" * 64,)
    if row is None:
        last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0] or 0
        return AnchorResult(
            source,
            seq,
            made_at,
            "truncated",
            f"The audit trail ends at entry {last}, but a signed checkpoint of {made_at} shows it "
            f"reached entry {seq}: the newest entries were deleted.",
            f"审计日志止于第 {last} 条，但 {made_at} 的签名检查点表明当时已有第 {seq} 条：最新的记录被删除了。",
        )
    if row[0] != digest:
        return AnchorResult(
            source,
            seq,
            made_at,
            "rewritten",
            f"Entry {seq} does not carry the hash a signed checkpoint of {made_at} recorded: the audit "
            f"trail up to entry {seq} was rewritten (edited or deleted rows re-chained).",
            f"第 {seq} 条记录的哈希与 {made_at} 的签名检查点不符：第 {seq} 条及以前的审计日志被改写过"
            "（修改或删除后重新串链）。",
        )
    return AnchorResult(source, seq, made_at, "ok", f"entry {seq} as of {made_at}", f"第 {seq} 条，{made_at}")


def verify(home, extra: list | None = None) -> AnchorReport:
    """Compare the catalog with the home's checkpoints and any given files/folders (backups, receipts, packages)."""
    envelopes = []
    for own in (Path(home.path) / FOLDER, Path(home.path) / "outbox" / "receipts"):  # receipts echo checkpoints
        if own.is_dir():
            envelopes += load(own)
    for item in extra or ():
        if not Path(item).exists():
            from scanstation.errors import NotFound

            raise NotFound("There is no checkpoint file or folder at {p}.", "{p} 处没有检查点文件或目录。", p=str(item))
        envelopes += load(item)
    fingerprints = own_keys(home)
    report = AnchorReport()
    seen = set()
    for envelope in envelopes:
        key = (json.dumps(envelope.get("checkpoint"), sort_keys=True), envelope["signature"].get("value"))
        if key in seen:
            continue
        seen.add(key)
        report.results.append(
            compare(home.catalog.conn, envelope, station=home.station, fonds=home.fonds, fingerprints=fingerprints)
        )
    report.results.sort(key=lambda r: r.seq)
    return report


__all__ = [
    "AnchorReport",
    "AnchorResult",
    "FOLDER",
    "FORMAT",
    "PACKAGE_FILE",
    "canonical",
    "compare",
    "create",
    "extract",
    "head",
    "load",
    "make",
    "to_bytes",
    "verify",
]
