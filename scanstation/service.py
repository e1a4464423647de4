"""The service layer: every change to the catalog goes through a Session.

A Session is an identified user acting in an open home. ``change()`` checks the role, opens one
write transaction, lets the caller change rows, and appends the audit entry (who, when, station,
object, before/after) in that same transaction, so there is never a change without its entry.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field

from scanstation import audit
from scanstation.errors import Refused
from scanstation.home import Home, now_iso
from scanstation.users import PERMISSIONS, ROLE_NAMES_ZH, User, load_user

SYSTEM_USER = User(id=0, name="system", roles=("admin",))


@dataclass
class Change:
    """What a change block fills in for its audit entry."""

    action: str
    object_type: str
    object_id: str
    before: object = None
    after: object = None
    conn: object = None
    extra_entries: list = field(default_factory=list)

    def also(self, action: str, object_type: str, object_id: str, before=None, after=None) -> None:
        """Record one more audited change in the same transaction (e.g. each renumbered page)."""
        self.extra_entries.append((action, object_type, str(object_id), before, after))


def integrity_refusal(exc: sqlite3.IntegrityError, object_id) -> Refused:
    """Say in plain words why the catalog refused a change; the transaction was rolled back."""
    text = str(exc)
    if "R37" in text:
        return Refused(
            "{obj} is in an open destruction register (R37): it cannot be changed until the procedure ends. "
            "Nothing was changed.",
            "{obj} 在未结束的销毁清册中（R37），程序结束前不能修改。未做任何修改。",
            obj=object_id,
        )
    if "UNIQUE" in text:
        return Refused(
            "{obj} already exists ({error}); nothing was changed.",
            "{obj} 已存在（{error}）；未做任何修改。",
            obj=object_id,
            error=text,
        )
    return Refused(
        "The catalog refused this change to {obj} ({error}); nothing was changed.",
        "目录数据库拒绝了对 {obj} 的修改（{error}）；未做任何修改。",
        obj=object_id,
        error=text,
    )


class Session:
    def __init__(self, home: Home, user: User):
        self.home = home
        self.user = user

    @property
    def catalog(self):
        return self.home.catalog

    def can(self, permission: str) -> bool:
        return self.user.has(permission)

    def require(self, permission: str) -> None:
        if not self.user.has(permission):
            allowed = PERMISSIONS[permission]
            raise Refused(
                "User '{user}' ({roles}) may not do this ({permission}); it needs the role {allowed}.",
                "用户“{user}”（{roles_zh}）无权执行此操作（{permission}）；需要以下角色之一：{allowed_zh}。",
                user=self.user.name,
                roles=", ".join(self.user.roles),
                permission=permission,
                allowed=" / ".join(allowed),
                roles_zh="、".join(ROLE_NAMES_ZH.get(r, r) for r in self.user.roles),
                allowed_zh=" / ".join(ROLE_NAMES_ZH.get(r, r) for r in allowed),
            )

    @contextlib.contextmanager
    def change(self, permission: str | None, action: str, object_type: str, object_id: str):
        """Check ``permission``, run the block in one transaction, audit it in the same one."""
        if permission:
            self.require(permission)
        record = Change(action, object_type, str(object_id))
        try:
            with self.catalog.write() as conn:
                record.conn = conn
                yield record
                self._audit(record)
        except sqlite3.IntegrityError as exc:  # a catalog rule (trigger, constraint) refused the change
            raise integrity_refusal(exc, object_id) from exc

    def _audit(self, record: Change) -> None:
        conn = record.conn
        ts = now_iso()
        audit.append(
            conn,
            ts=ts,
            user=self.user.name,
            station=self.home.station,
            action=record.action,
            object_type=record.object_type,
            object_id=record.object_id,
            before=record.before,
            after=record.after,
        )
        for action_, type_, id_, before, after in record.extra_entries:
            audit.append(
                conn,
                ts=ts,
                user=self.user.name,
                station=self.home.station,
                action=action_,
                object_type=type_,
                object_id=id_,
                before=before,
                after=after,
            )

    def log(self, action: str, object_type: str, object_id: str, details=None) -> None:
        """Audit an event that changes no row (a view of personal data, an export, a print)."""
        with self.change(None, action, object_type, object_id) as ch:
            ch.after = details


def init_home(
    path, fonds: str, station: str, admin: str, password: str, kind: str = "station", details: dict | None = None
) -> Home:
    """``scanstation init``: a new home and its first administrator, with the first audit entry.

    The command line, the first-start dialog and the demo all create homes through this.
    """
    from scanstation.home import validate_code
    from scanstation.users import hash_password, validate_name, validate_password

    fonds = validate_code(fonds, "Fonds code", "全宗号")
    station = validate_code(station, "Station id", "站点编号")
    admin = validate_name(admin)
    validate_password(password)
    home = Home.create(path, fonds, station, role=kind)
    try:
        with home.catalog.write() as conn:
            conn.execute(
                "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, 'admin', ?, ?)",
                (admin, hash_password(password), now_iso()),
            )
            audit.append(
                conn,
                ts=now_iso(),
                user=admin,
                station=station,
                action="home.init",
                object_type="home",
                object_id=fonds,
                after={"fonds": fonds, "station": station, "admin": admin, "kind": kind, **(details or {})},
            )
    except BaseException:
        home.close()
        raise
    return home


def init_archive(
    path,
    fonds: str,
    station: str,
    admin: str,
    password: str,
    *,
    dsn: str,
    store: str,
    endpoint: str | None = None,
    credentials: str | None = None,
) -> Home:
    """``scanstation archive init``: an archive home on PostgreSQL and a page store.

    The first desk creates the schema and the first administrator; a later desk's home joins the same
    archive (its administrator must exist there and be an administrator: the password is checked)."""
    from scanstation.home import validate_code
    from scanstation.users import authenticate, hash_password, validate_name, validate_password

    fonds = validate_code(fonds, "Fonds code", "全宗号")
    station = validate_code(station, "Station id", "站点编号")
    admin = validate_name(admin)
    validate_password(password)
    home = Home.create_archive(path, fonds, station, dsn=dsn, store=store, endpoint=endpoint, credentials=credentials)
    try:
        details = {
            "fonds": fonds,
            "station": station,
            "admin": admin,
            "kind": "archive",
            "backend": "postgresql",
            "store": store,
        }  # the connection string stays out of the audit: it names hosts and users
        with home.catalog.write() as conn:
            first = conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
            if first:
                conn.execute(
                    "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, 'admin', ?, ?)",
                    (admin, hash_password(password), now_iso()),
                )
            else:
                user = authenticate(home.catalog, admin, password)
                if "admin" not in user.roles:
                    raise Refused(
                        "{n} is not an administrator of this archive; a desk joins it with an administrator's "
                        "name and password. Nothing was changed in the archive.",
                        "{n} 不是该档案库的管理员；加入档案库须使用管理员的用户名和密码。档案库未做任何修改。",
                        n=admin,
                    )
            audit.append(
                conn,
                ts=now_iso(),
                user=admin,
                station=station,
                action="home.init" if first else "home.join",
                object_type="home",
                object_id=fonds,
                after=details,
            )
    except BaseException:
        home.close()
        import shutil

        shutil.rmtree(home.path, ignore_errors=True)  # the folder was new and empty (Home.create_archive)
        raise
    return home


def session_for(home: Home, name: str) -> Session:
    """A session of the user ``name`` without a password check (the demo, the first start, tests)."""
    return Session(home, load_user(home.catalog, name)[0])


# -- users -------------------------------------------------------------------------------------------
def add_user(session: Session, name: str, roles: tuple[str, ...], password: str) -> None:
    """A new user (``user add`` and the window's administration), audited."""
    from scanstation.users import hash_password, validate_name, validate_password

    name = validate_name(name)
    validate_password(password)
    if session.catalog.one("SELECT id FROM users WHERE name = ?", (name,)):
        raise Refused("A user named '{name}' already exists.", "用户“{name}”已存在。", name=name)
    with session.change("user.manage", "user.add", "user", name) as ch:
        ch.conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, " ".join(roles), hash_password(password), now_iso()),
        )
        ch.after = {"roles": list(roles)}


def list_users(session: Session) -> list[dict]:
    """Every user with roles, state and creation time (administrators only)."""
    session.require("user.manage")
    return session.catalog.query("SELECT name, roles, disabled, created_at FROM users ORDER BY name")


# -- dossiers as shown -------------------------------------------------------------------------------
def present_dossier(session: Session, row: dict, unmasked: bool = False, rule=None) -> dict:
    """A catalog row as a person sees it (R40): personal fields decrypted when the key is unlocked (a lock
    sign otherwise), the ID number masked by the station's rule (``rule``, read from the settings when
    not given) unless ``unmasked``."""
    from scanstation import id_number, settings
    from scanstation.storage.encryption import is_encrypted, reveal

    out = dict(row)
    for name in ("person_name", "person_id_number"):  # R40: decrypt when unlocked, else show nothing
        if is_encrypted(out.get(name)):
            try:
                out[name] = reveal(session.home, name, out[name])
            except Exception:
                out[name] = "🔒"
    if not unmasked and out["person_id_number"] not in ("", "🔒"):
        out["person_id_number"] = id_number.mask(out["person_id_number"], rule or settings.id_mask_rule(session.home))
    return out
