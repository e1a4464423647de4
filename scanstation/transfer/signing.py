"""Station keys, detached signatures and the archive room's trust list (R30).

SM2 with SM3 (GB/T 32918, the signature of GM/T 0009 with the default ID "1234567812345678") is
the default; Ed25519 is the option. Signatures are what OpenSSL makes and checks:
SM2 as a DER SEQUENCE of two INTEGERs (r, s), Ed25519 as its raw 64 bytes. Public keys travel
as PEM SubjectPublicKeyInfo (SM2: id-ecPublicKey with the SM2 curve, 1.2.156.10197.1.301).

The SM2 curve arithmetic is gmssl's; the digests are hashlib's SM3 (OpenSSL), and every random
number comes from ``secrets`` — gmssl's own nonce generator uses ``random`` and is never used.

Private keys are stored in a small JSON file: the 32-byte private key encrypted with AES-256-GCM
under a key derived from the passphrase by scrypt; the algorithm and public key fingerprint are
bound to the ciphertext as associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from Cryptodome.Util.asn1 import DerBitString, DerObjectId, DerSequence
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from gmssl import sm2

from scanstation.errors import InvalidInput, NotFound, Refused, StorageError
from scanstation.storage.files import storage_error, write_atomic

ALGORITHMS = ("sm2", "ed25519")
DEFAULT_ALGORITHM = "sm2"
SM2_DEFAULT_ID = b"1234567812345678"

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2_CURVE = "1.2.156.10197.1.301"
OID_ED25519 = "1.3.101.112"

KEY_FILE_FORMAT = "scanstation-private-key"
TRUST_LIST_FORMAT = "scanstation-trust-list"
MIN_PASSPHRASE = 8
#: scrypt cost for new keys (32 MiB, about 0.1 s) and the most a key file may ask for.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1
SCRYPT_MAX_N, SCRYPT_MAX_R, SCRYPT_MAX_P, SCRYPT_MAX_MEMORY = 1 << 20, 32, 16, 256 << 20

_CURVE = sm2.default_ecc_table
_P = int(_CURVE["p"], 16)
_A = int(_CURVE["a"], 16)
_B = int(_CURVE["b"], 16)
_N = int(_CURVE["n"], 16)
_G = _CURVE["g"].lower()
_GX, _GY = int(_G[:64], 16), int(_G[64:], 16)

_PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----\s*(.+?)\s*-----END PUBLIC KEY-----", re.S)


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


# ---------------------------------------------------------------------------------------------
# SM2 primitives on top of gmssl


def _gmssl(private_hex: str = "", public_xy_hex: str = "") -> sm2.CryptSM2:
    engine = sm2.CryptSM2(private_key=private_hex, public_key="")
    # Set after construction: gmssl's constructor runs lstrip("04") on the key, which also eats
    # a leading "0"/"4" of x itself.
    engine.public_key = public_xy_hex
    return engine


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0


def _sm2_public_point(d: int) -> bytes:
    xy = _gmssl()._kg(d, _G)  # gmssl has no public key generation call; _kg is d·G
    return bytes.fromhex(xy)


def _sm2_digest(public_xy: bytes, data: bytes, uid: bytes = SM2_DEFAULT_ID) -> bytes:
    """e = SM3(Z_A || M) with Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)."""
    entl = (len(uid) * 8).to_bytes(2, "big")
    z = _sm3(entl + uid + bytes.fromhex(_CURVE["a"]) + bytes.fromhex(_CURVE["b"]) + bytes.fromhex(_G) + public_xy)
    return _sm3(z + data)


def _sm2_sign(d: int, public_xy: bytes, data: bytes) -> bytes:
    e = _sm2_digest(public_xy, data)
    engine = _gmssl(f"{d:064x}", public_xy.hex())
    while True:
        k = secrets.randbelow(_N - 1) + 1
        rs = engine.sign(e, f"{k:064x}")
        if rs:  # gmssl returns None for the rare r = 0, r + k = n or s = 0: draw another k
            return encode_dss_signature(int(rs[:64], 16), int(rs[64:], 16))


def _sm2_verify(public_xy: bytes, data: bytes, signature: bytes) -> bool:
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return False
    if encode_dss_signature(r, s) != signature:  # only the one canonical DER form
        return False
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    e = _sm2_digest(public_xy, data)
    try:
        return bool(_gmssl("", public_xy.hex()).verify(f"{r:064x}{s:064x}", e))
    except (TypeError, ValueError):  # point at infinity inside gmssl
        return False


def _decompress(prefix: int, x: int) -> int:
    y2 = (x * x * x + _A * x + _B) % _P
    y = pow(y2, (_P + 1) // 4, _P)  # p ≡ 3 (mod 4)
    if y * y % _P != y2:
        raise ValueError("not on the curve")
    return y if y % 2 == prefix % 2 else _P - y


# ---------------------------------------------------------------------------------------------
# Public keys


@dataclass(frozen=True)
class PublicKey:
    """A parsed public key: ``algorithm`` and its raw form (SM2: x||y, 64 bytes; Ed25519: 32 bytes)."""

    algorithm: str
    raw: bytes

    @property
    def der(self) -> bytes:
        """Canonical DER SubjectPublicKeyInfo."""
        if self.algorithm == "sm2":
            alg = DerSequence([DerObjectId(OID_EC_PUBLIC_KEY), DerObjectId(OID_SM2_CURVE)])
            return DerSequence([alg, DerBitString(b"\x04" + self.raw)]).encode()
        return ed25519.Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def pem(self) -> str:
        body = base64.b64encode(self.der).decode("ascii")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"

    @property
    def fingerprint(self) -> str:
        return hashlib.new("sm3", self.der).hexdigest()


def _item(seq: DerSequence, n: int) -> bytes:
    """The ``n``-th element of a decoded sequence, as the DER bytes of a constructed element
    (pycryptodome's type stubs say ``None`` for ``DerSequence.__getitem__``)."""
    value = cast(object, seq[n])
    if not isinstance(value, bytes):
        raise ValueError("expected a DER element, found an integer")
    return value


def _bad_key(reason: str) -> InvalidInput:
    return InvalidInput(
        "This is not a usable public key ({reason}). Export the public key again as PEM.",
        "这不是可用的公钥（{reason}）。请重新导出 PEM 格式的公钥。",
        reason=reason,
    )


def parse_public_key(public_pem: str | bytes) -> PublicKey:
    """Read a PEM SubjectPublicKeyInfo (SM2 or Ed25519); InvalidInput if it is anything else."""
    if isinstance(public_pem, bytes):
        public_pem = public_pem.decode("ascii", "replace")
    m = _PEM_RE.search(public_pem or "")
    if m is None:
        raise _bad_key("no PUBLIC KEY block")
    try:
        der = binascii.a2b_base64("".join(m.group(1).split()), strict_mode=True)
        outer = DerSequence().decode(der, strict=True)
        if len(outer) != 2:
            raise ValueError("SubjectPublicKeyInfo must have two parts")
        alg = DerSequence().decode(_item(outer, 0), strict=True)
        oid = DerObjectId().decode(_item(alg, 0), strict=True).value
        bits = DerBitString().decode(_item(outer, 1), strict=True).value
    except (ValueError, TypeError, IndexError, binascii.Error) as exc:
        raise _bad_key(str(exc) or "malformed DER") from None
    if oid == OID_ED25519:
        if len(alg) != 1 or len(bits) != 32:
            raise _bad_key("malformed Ed25519 key")
        return PublicKey("ed25519", bytes(bits))
    if oid == OID_EC_PUBLIC_KEY:
        try:
            curve = DerObjectId().decode(_item(alg, 1), strict=True).value if len(alg) == 2 else None
        except ValueError:
            curve = None
        if curve != OID_SM2_CURVE:
            raise _bad_key(f"elliptic curve {curve or 'unnamed'} is not SM2")
        if len(bits) == 65 and bits[0] == 4:
            x, y = int.from_bytes(bits[1:33], "big"), int.from_bytes(bits[33:], "big")
        elif len(bits) == 33 and bits[0] in (2, 3):
            x = int.from_bytes(bits[1:], "big")
            try:
                y = _decompress(bits[0], x)
            except ValueError:
                raise _bad_key("point is not on the SM2 curve") from None
        else:
            raise _bad_key("malformed SM2 point")
        if not _on_curve(x, y) or (x, y) == (0, 0):
            raise _bad_key("point is not on the SM2 curve")
        return PublicKey("sm2", x.to_bytes(32, "big") + y.to_bytes(32, "big"))
    raise _bad_key(f"algorithm {oid} is neither SM2 nor Ed25519")


def key_algorithm(public_pem: str) -> str:
    return parse_public_key(public_pem).algorithm


def fingerprint(public_pem: str) -> str:
    """SM3 (hex) of the key's DER SubjectPublicKeyInfo: the name of a key in trust lists."""
    return parse_public_key(public_pem).fingerprint


def verify(public_pem: str, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid signature of ``data`` by this key (algorithm from the PEM).

    A malformed signature is simply not valid; a malformed key raises InvalidInput.
    """
    key = parse_public_key(public_pem)
    if not isinstance(signature, (bytes, bytearray)):
        return False
    if key.algorithm == "sm2":
        return _sm2_verify(key.raw, bytes(data), bytes(signature))
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(key.raw).verify(bytes(signature), bytes(data))
        return True
    except InvalidSignature:
        return False


# ---------------------------------------------------------------------------------------------
# Private keys


class Signer:
    """An unlocked private key. Keep it only as long as signing takes."""

    def __init__(self, algorithm: str, private: bytes, public: PublicKey):
        self.algorithm = algorithm
        self._private = private
        self.public_key = public

    @property
    def public_pem(self) -> str:
        return self.public_key.pem

    @property
    def fingerprint(self) -> str:
        return self.public_key.fingerprint

    def sign(self, data: bytes) -> bytes:
        """Detached signature: DER (r, s) for SM2, raw 64 bytes for Ed25519."""
        if self.algorithm == "sm2":
            return _sm2_sign(int.from_bytes(self._private, "big"), self.public_key.raw, bytes(data))
        return ed25519.Ed25519PrivateKey.from_private_bytes(self._private).sign(bytes(data))

    def __repr__(self) -> str:
        return f"Signer({self.algorithm}, {self.fingerprint[:16]}…)"


def _public_for(algorithm: str, private: bytes) -> PublicKey:
    if algorithm == "sm2":
        return PublicKey("sm2", _sm2_public_point(int.from_bytes(private, "big")))
    raw = (
        ed25519.Ed25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return PublicKey("ed25519", raw)


def _check_algorithm(algorithm: str) -> str:
    alg = (algorithm or "").lower()
    if alg not in ALGORITHMS:
        raise InvalidInput(
            "The signature algorithm {alg} is not supported. Use sm2 or ed25519.",
            "不支持签名算法 {alg}。请使用 sm2 或 ed25519。",
            alg=algorithm,
        )
    return alg


def _passphrase_bytes(passphrase: str) -> bytes:
    return unicodedata.normalize("NFC", passphrase or "").encode("utf-8")


def _aad(algorithm: str, fp: str) -> bytes:
    return f"{KEY_FILE_FORMAT}|1|{algorithm}|{fp}".encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text) -> bytes:
    return base64.b64decode(text, validate=True)


@dataclass
class KeyFile:
    """The stored form of a station key: public part in clear, private key encrypted."""

    data: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def algorithm(self) -> str:
        return self.data["algorithm"]

    @property
    def public_pem(self) -> str:
        return self.data["public_key_pem"]

    @property
    def fingerprint(self) -> str:
        return self.data["fingerprint"]

    @property
    def created(self) -> str:
        return self.data.get("created", "")

    def save(self, path) -> Path:
        path = Path(path)
        write_atomic(path, (json.dumps(self.data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), private=True)
        self.path = path
        return path

    @classmethod
    def load(cls, path) -> KeyFile:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(
                "The key file {path} does not exist. Generate a station key first.",
                "密钥文件 {path} 不存在。请先生成本站密钥。",
                path=str(path),
            ) from None
        except OSError as exc:
            raise storage_error(path, exc) from exc
        damaged = InvalidInput(
            "The key file {path} is damaged or not a ScanStation key. Restore it from the backup.",
            "密钥文件 {path} 已损坏或不是 ScanStation 密钥。请从备份恢复。",
            path=str(path),
        )
        if len(raw) > 1 << 20:
            raise damaged
        try:
            data = json.loads(raw.decode("utf-8"))
            ok = (
                isinstance(data, dict)
                and data.get("format") == KEY_FILE_FORMAT
                and data.get("version") == 1
                and data.get("algorithm") in ALGORITHMS
                and isinstance(data.get("kdf"), dict)
                and isinstance(data.get("cipher"), dict)
            )
            if ok:
                public = parse_public_key(data["public_key_pem"])
                ok = public.algorithm == data["algorithm"] and public.fingerprint == data.get("fingerprint")
        except (ValueError, UnicodeDecodeError, KeyError, InvalidInput):
            ok = False
        if not ok:
            raise damaged
        return cls(data, path)

    def signer(self, passphrase: str) -> Signer:
        where = str(self.path) if self.path else self.fingerprint[:16]
        damaged = InvalidInput(
            "The key file {path} is damaged. Restore it from the backup.",
            "密钥文件 {path} 已损坏。请从备份恢复。",
            path=where,
        )
        kdf, cipher = self.data["kdf"], self.data["cipher"]
        try:
            if kdf.get("name") != "scrypt" or cipher.get("name") != "aes-256-gcm":
                raise damaged
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (
                1 < n <= SCRYPT_MAX_N
                and n & (n - 1) == 0
                and 0 < r <= SCRYPT_MAX_R
                and 0 < p <= SCRYPT_MAX_P
                and 128 * n * r <= SCRYPT_MAX_MEMORY
            ):
                raise damaged
            salt, nonce, ciphertext = _unb64(kdf["salt"]), _unb64(cipher["nonce"]), _unb64(cipher["ciphertext"])
        except (KeyError, ValueError, TypeError, binascii.Error):
            raise damaged from None
        key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(_passphrase_bytes(passphrase))
        try:
            private = AESGCM(key).decrypt(nonce, ciphertext, _aad(self.algorithm, self.fingerprint))
        except InvalidTag:
            raise Refused(
                "The passphrase for key {fp} is wrong; nothing was signed. Enter the passphrase again.",
                "密钥 {fp} 的口令错误，未进行签名。请重新输入口令。",
                fp=self.fingerprint[:16],
            ) from None
        public = _public_for(self.algorithm, private) if len(private) == 32 else None
        if public is None or public.fingerprint != self.fingerprint:
            raise damaged
        return Signer(self.algorithm, private, public)


def _new_private(algorithm: str) -> bytes:
    if algorithm == "sm2":
        return (secrets.randbelow(_N - 2) + 1).to_bytes(32, "big")  # d in [1, n-2]
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def generate_key(algorithm: str = DEFAULT_ALGORITHM, passphrase: str = "") -> KeyFile:
    """Make a new key pair on this station, its private key sealed under ``passphrase``."""
    alg = _check_algorithm(algorithm)
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise InvalidInput(
            "The key passphrase must have at least {n} characters. Choose a longer one.",
            "密钥口令至少需要 {n} 个字符。请设置更长的口令。",
            n=MIN_PASSPHRASE,
        )
    private = _new_private(alg)
    public = _public_for(alg, private)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(_passphrase_bytes(passphrase))
    ciphertext = AESGCM(key).encrypt(nonce, private, _aad(alg, public.fingerprint))
    return KeyFile(
        {
            "format": KEY_FILE_FORMAT,
            "version": 1,
            "algorithm": alg,
            "public_key_pem": public.pem,
            "fingerprint": public.fingerprint,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "cipher": {"name": "aes-256-gcm", "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)},
        }
    )


def load_private_key(path, passphrase: str) -> Signer:
    """Unlock the key stored at ``path``; Refused on a wrong passphrase."""
    return KeyFile.load(path).signer(passphrase)


# ---------------------------------------------------------------------------------------------
# Trust list


@dataclass(frozen=True)
class TrustedKey:
    name: str
    algorithm: str
    fingerprint: str
    public_pem: str
    added: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "algorithm": self.algorithm,
            "fingerprint": self.fingerprint,
            "public_key_pem": self.public_pem,
            "added": self.added,
        }


class TrustList:
    """Public keys a side accepts signatures from, named, matched by fingerprint.

    Stored as one JSON file; a folder of ``NAME.pem`` files can be read too.
    """

    def __init__(self, keys=()):
        self._keys: dict[str, TrustedKey] = {}
        for key in keys:
            self._keys[key.fingerprint] = key

    @property
    def keys(self) -> list[TrustedKey]:
        return sorted(self._keys.values(), key=lambda k: (k.name, k.fingerprint))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self.keys)

    def add(self, name: str, public_pem: str) -> TrustedKey:
        name = (name or "").strip()
        if not name:
            raise InvalidInput(
                "Give the trusted key a name (the department or person it belongs to).",
                "请为受信任的公钥命名（所属部门或人员）。",
            )
        public = parse_public_key(public_pem)
        for other in self._keys.values():
            if other.name == name and other.fingerprint != public.fingerprint:
                raise Refused(
                    "Another key is already trusted under the name {name}. Remove it first or choose another name.",
                    "名称 {name} 已用于另一把受信任的公钥。请先移除它或换一个名称。",
                    name=name,
                )
        key = TrustedKey(
            name, public.algorithm, public.fingerprint, public.pem, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        self._keys[public.fingerprint] = key
        return key

    def remove(self, name_or_fingerprint: str) -> bool:
        for fp, key in list(self._keys.items()):
            if name_or_fingerprint in (fp, key.name):
                del self._keys[fp]
                return True
        return False

    def find(self, public_pem: str) -> TrustedKey | None:
        try:
            return self._keys.get(parse_public_key(public_pem).fingerprint)
        except InvalidInput:
            return None

    def is_trusted(self, public_pem: str) -> bool:
        return self.find(public_pem) is not None

    def to_dict(self) -> dict:
        return {"format": TRUST_LIST_FORMAT, "version": 1, "keys": [k.to_dict() for k in self.keys]}

    def save(self, path) -> Path:
        path = Path(path)
        # private like every file in keys/: whoever could rewrite the trust list could make a forged signer trusted
        write_atomic(
            path, (json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"), private=True
        )
        return path

    @classmethod
    def load(cls, path, *, missing_ok: bool = True) -> TrustList:
        path = Path(path)
        if path.is_dir():
            trust = cls()
            for pem in sorted(path.glob("*.pem")):
                try:
                    trust.add(pem.stem, pem.read_text("ascii", "replace"))
                except OSError as exc:
                    raise storage_error(pem, exc) from exc
            return trust
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise NotFound(
                "The trust list {path} does not exist. Import the sender's public key first.",
                "信任列表 {path} 不存在。请先导入发送方的公钥。",
                path=str(path),
            ) from None
        except OSError as exc:
            raise StorageError(
                "Cannot read the trust list {path}: {error}.",
                "无法读取信任列表 {path}：{error}。",
                path=str(path),
                error=exc.strerror or str(exc),
            ) from exc
        damaged = InvalidInput(
            "The trust list {path} is damaged. Restore it from the backup.",
            "信任列表 {path} 已损坏。请从备份恢复。",
            path=str(path),
        )
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != TRUST_LIST_FORMAT:
                raise damaged
            keys = []
            for item in data.get("keys", []):
                public = parse_public_key(item["public_key_pem"])
                if public.fingerprint != item.get("fingerprint"):
                    raise damaged
                keys.append(
                    TrustedKey(
                        str(item["name"]), public.algorithm, public.fingerprint, public.pem, str(item.get("added", ""))
                    )
                )
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, InvalidInput):
            raise damaged from None
        return cls(keys)
