"""Users, roles and passwords (argon2id).

Roles: clerk (经办/数字化人员), qc (质检), archivist (档案室), admin (管理员), auditor (审计).
A user may hold several roles. What each role may do is declared once in PERMISSIONS.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scanstation.errors import InvalidInput, NotFound, Refused

ROLES = ("clerk", "qc", "archivist", "admin", "auditor")
ROLE_NAMES_ZH = {
    "clerk": "经办/扫描员",
    "qc": "质检员",
    "archivist": "档案室人员",
    "admin": "管理员",
    "auditor": "审计员",
}

# permission -> roles that have it. The one place that says who may do what.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "user.manage": ("admin",),
    "settings.manage": ("admin",),
    "catalog.import": ("clerk", "archivist", "admin"),
    "catalog.edit": ("clerk", "archivist", "admin"),
    "catalog.read": ROLES,
    "capture": ("clerk",),
    "qc.decide": ("qc",),
    "batch.manage": ("clerk", "admin"),
    "keys.manage": ("admin",),
    "receive": ("archivist",),
    "audit.read": ("auditor", "admin"),
    "audit.read_protected": ("auditor",),
    "personal.unmasked": ("archivist", "auditor", "qc", "clerk"),
    "retention.propose": ("archivist",),
    "retention.approve": ("admin",),
    "retention.execute": ("archivist", "admin"),
    "backup": ("admin",),
    "lend.request": ROLES,
    "lend.approve": ("archivist", "admin"),
    "report": ("admin", "auditor", "archivist", "qc"),
    "catalog.correct": ("archivist", "admin"),  # R12 corrections after transfer
    "catalog.export": ("archivist", "admin", "auditor"),
    "fixity.check": ("admin", "archivist", "auditor"),
    "pages.view": ("archivist",),  # archive staff read pages without a loan
    "package.deliver": ("clerk", "admin"),  # a station's account uploads packages over HTTPS
    "export": ("clerk", "archivist", "admin"),  # PDF/OFD copies, 数据挂接, EEP packages
    "paper.custody": ("clerk", "archivist", "admin"),  # 调档, 拆装订, hand-over lists
    "store.sweep": ("admin",),  # remove page-store objects nothing names (scanstation.custody.store_sweep)
}

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
NAME_RE = re.compile(r"[\w.@-]{1,64}")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    name: str
    roles: tuple[str, ...]
    disabled: bool = False

    def has(self, permission: str) -> bool:
        allowed = PERMISSIONS[permission]
        return any(role in allowed for role in self.roles)


def parse_roles(text: str) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(r.strip() for r in re.split(r"[,\s]+", text or "") if r.strip()))
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise InvalidInput(
            "Unknown role '{role}'. Roles are: {roles}.",
            "未知角色“{role}”。可用角色：{roles}。",
            role=",".join(bad) or text,
            roles=", ".join(ROLES),
        )
    return roles


def validate_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.fullmatch(name):
        raise InvalidInput(
            "User name '{name}' is not valid: 1-64 letters, digits, '.', '@', '-' or '_'.",
            "用户名“{name}”无效：只能使用 1-64 个字母、数字、“.”、“@”、“-”或“_”。",
            name=name,
        )
    return name


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(
            "The password must have at least {n} characters.", "密码至少需要 {n} 个字符。", n=MIN_PASSWORD
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def row_to_user(row: dict) -> User:
    return User(id=row["id"], name=row["name"], roles=tuple(row["roles"].split()), disabled=bool(row["disabled"]))


def load_user(catalog, name: str) -> tuple[User, str]:
    row = catalog.one("SELECT * FROM users WHERE name = ?", (name,))
    if row is None:
        raise NotFound("No user named '{name}'.", "用户“{name}”不存在。", name=name)
    return row_to_user(row), row["password_hash"]


def authenticate(catalog, name: str, password: str) -> User:
    """Check name and password; the message never says which of the two was wrong."""
    row = catalog.one("SELECT * FROM users WHERE name = ?", (name,))
    if row is None or not check_password(row["password_hash"], password):
        raise Refused("Wrong user name or password.", "用户名或密码错误。")
    user = row_to_user(row)
    if user.disabled:
        raise Refused(
            "The account '{name}' is disabled. Ask an administrator.", "账户“{name}”已停用。请联系管理员。", name=name
        )
    return user


def password_from(env_var: str, prompt: str, confirm: bool = False) -> str:
    """A password from the environment or, on a terminal, a prompt."""
    value = os.environ.get(env_var)
    if value is not None:
        return value
    try:
        import sys

        if not sys.stdin or not sys.stdin.isatty():
            raise EOFError
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("  ↳ " + prompt) != first:
            raise InvalidInput("The two passwords differ.", "两次输入的密码不一致。")
        return first
    except (EOFError, KeyboardInterrupt):
        raise Refused(
            "A password is needed: type it at the prompt or set {var}.",
            "需要密码：请在提示处输入，或设置环境变量 {var}。",
            var=env_var,
        ) from None
