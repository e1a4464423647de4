"""The network service's security, against the real service process: every endpoint with every role
and with none (table-driven), CSRF, cookies, headers, escaping, masking of ID numbers, login rate
limit, and that no URL reaches the file system by a name."""

from __future__ import annotations

import re
import sqlite3

import httpx
import pytest

from tests.web_fixtures import (
    ARCHIVE_NUMBERS,
    ID_NUMBER,
    PASSWORD,
    ROLE_USERS,
    Server,
    archive_world,
    browser_login,
    csrf_of,
)

ROLES = list(ROLE_USERS)
NOBODY = "anonymous"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("websec")
    world = archive_world(tmp)
    world["station"].close()
    server = Server(world["archive_path"]).start()
    yield world, server
    server.stop()


def client_for(server: Server, role: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60)
    if role != NOBODY:
        assert browser_login(client, ROLE_USERS[role]).status_code == 303
        client.csrf = csrf_of(client)
    else:
        client.csrf = ""
    return client


def audit_rows(world, action: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{world['archive_path'] / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT user, object_type, object_id, after FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    finally:
        conn.close()


def page_ids(world) -> list[int]:
    conn = sqlite3.connect(f"file:{world['archive_path'] / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM pages ORDER BY id")]
    finally:
        conn.close()


def new_loan(server: Server, world, requester: str = "clerk9", approve: bool = False, which: int = 1) -> int:
    """A loan requested by ``requester`` (and approved by arch9), made through the service itself."""
    c = client_for(server, "clerk" if requester == "clerk9" else "auditor")
    dossier = world["ids"][ARCHIVE_NUMBERS[which]]
    r = c.post("/loans", data={"csrf": c.csrf, "dossier_id": dossier, "reason": "稽核需要", "days": "2"})
    assert r.status_code == 303, r.text
    loan = int(re.search(r"requested-(\d+)", r.headers["location"]).group(1))
    if approve:
        a = client_for(server, "archivist")
        assert a.post(f"/loans/{loan}/approve", data={"csrf": a.csrf}).status_code == 303
    return loan


# (method, path builder, who may) -- "may" is the set of roles for which the role check lets it through
def endpoint_table(world) -> list[tuple[str, str, object, set]]:
    dossier = world["ids"][ARCHIVE_NUMBERS[0]]
    page = page_ids(world)[0]
    every = set(ROLES)
    return [
        ("GET", "search", lambda s: "/search?q=档案", every),
        ("GET", "search-filter", lambda s: "/search?year=2023", every),
        ("GET", "dossier", lambda s: f"/dossiers/{dossier}", every),
        (
            "GET",
            "dossier-unmasked",
            lambda s: f"/dossiers/{dossier}?unmasked=1",
            {"clerk", "qc", "archivist", "auditor"},
        ),
        ("GET", "page-viewer", lambda s: f"/pages/{page}", every),
        ("GET", "page-image", lambda s: f"/pages/{page}/image", {"archivist"}),
        ("GET", "page-thumb", lambda s: f"/pages/{page}/thumb", {"archivist"}),
        ("GET", "loans", lambda s: "/loans", every),
        ("GET", "intake", lambda s: "/intake", {"archivist"}),
        ("GET", "intake-item", lambda s: "/intake/999999", {"archivist"}),
        ("GET", "intake-receipt", lambda s: "/intake/999999/receipt", {"archivist"}),
        ("POST", "loan-request", lambda s: "/loans", every),
        ("POST", "loan-approve", lambda s: f"/loans/{new_loan(s, world)}/approve", {"archivist", "admin"}),
        ("POST", "loan-reject", lambda s: f"/loans/{new_loan(s, world)}/reject", {"archivist", "admin"}),
        (
            "POST",
            "loan-return",
            lambda s: f"/loans/{new_loan(s, world, 'aud9', approve=True)}/return",
            {"archivist", "admin", "auditor"},
        ),
        ("POST", "intake-accept", lambda s: "/intake/999999/accept", {"archivist"}),
        ("POST", "intake-reject", lambda s: "/intake/999999/reject", {"archivist"}),
    ]


API_TABLE = [
    ("POST", "/api/v1/uploads", {"json": {"upload_id": "{own}", "size": 10, "batch_id": "X"}}),
    ("GET", "/api/v1/uploads/" + "1" * 64, {}),
    ("PUT", "/api/v1/uploads/" + "1" * 64 + "/chunks/0", {"content": b"abc", "headers": {"X-Chunk-SM3": "00"}}),
    ("POST", "/api/v1/uploads/" + "1" * 64 + "/complete", {}),
    ("GET", "/api/v1/uploads/" + "1" * 64 + "/receipt", {}),
]
API_MAY = {"clerk", "admin"}  # package.deliver


@pytest.mark.parametrize("role", ROLES + [NOBODY])
def test_every_browser_endpoint_checks_the_role(served, role):
    world, server = served
    client = client_for(server, role)
    for method, name, path_of, may in endpoint_table(world):
        path = path_of(server)
        if method == "GET":
            r = client.get(path)
        else:
            data = {"csrf": client.csrf}
            if name == "loan-request":
                data.update(dossier_id=world["ids"][ARCHIVE_NUMBERS[2]], reason="业务核对", days="1")
            r = client.post(path, data=data)
        if role == NOBODY:
            if method == "GET":
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (name, r.status_code)
            else:
                assert r.status_code == 401, (name, r.status_code)
            continue
        denied = r.status_code == 403 and ("may not" in r.text or "无权" in r.text or "只能在借阅获批" in r.text)
        if role in may:
            assert not denied and r.status_code in (200, 303, 404), (role, name, r.status_code, r.text[-400:])
        else:
            assert denied, (role, name, r.status_code, r.text[-400:])


@pytest.mark.parametrize("role", ROLES + [NOBODY])
def test_every_station_api_endpoint_checks_the_role(served, role):
    world, server = served
    client = httpx.Client(base_url=server.url, timeout=30)
    headers = {}
    if role != NOBODY:
        r = client.post("/api/v1/session", json={"user": ROLE_USERS[role], "password": PASSWORD})
        if role not in API_MAY:
            assert r.status_code == 403 and "package.deliver" in r.json()["error"]["en"]
            return
        assert r.status_code == 200
        headers = {"Authorization": "Bearer " + r.json()["token"]}
    for method, path, kw in API_TABLE:
        kw = dict(kw)
        if "json" in kw:  # each account its own upload (another account's upload is refused, and rightly)
            kw["json"] = dict(kw["json"], upload_id=f"{(ROLES + [NOBODY]).index(role):064d}")
        kw["headers"] = {**kw.get("headers", {}), **headers}
        r = client.request(method, path, **kw)
        if role == NOBODY:
            assert r.status_code == 401, (path, r.status_code)
        else:
            assert r.status_code not in (401, 403), (role, path, r.status_code, r.text)
            assert "error" in r.json() or r.status_code == 200


def test_browser_cookie_is_not_accepted_by_the_api_nor_a_bearer_token_by_pages(served):
    world, server = served
    browser = client_for(server, "clerk")
    r = browser.get("/api/v1/uploads/" + "1" * 64)
    assert r.status_code == 401
    api = httpx.Client(base_url=server.url, follow_redirects=False)
    token = api.post("/api/v1/session", json={"user": "clerk9", "password": PASSWORD}).json()["token"]
    r = api.get("/search?q=档案", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(served):
    world, server = served
    client = client_for(server, "clerk")
    before = len(audit_rows(world, "lend.request"))
    for token in ("", "forged-token"):
        r = client.post(
            "/loans",
            data={"csrf": token, "dossier_id": world["ids"][ARCHIVE_NUMBERS[0]], "reason": "跨站请求", "days": "3"},
        )
        assert r.status_code == 403 and "CSRF" in r.text
    assert len(audit_rows(world, "lend.request")) == before


def test_session_cookie_flags_and_security_headers(served):
    world, server = served
    client = httpx.Client(base_url=server.url, follow_redirects=False)
    client.get("/login")
    r = client.post("/login", data={"user": "qc9", "password": PASSWORD, "login_token": client.cookies.get("ss_login")})
    cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("ss_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback only; the TLS test checks Secure
    page = client.get("/search")
    h = page.headers
    assert (
        "frame-ancestors 'none'" in h["content-security-policy"] and "script-src 'self'" in h["content-security-policy"]
    )
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["cache-control"] == "no-store"


def test_ocr_text_with_a_script_tag_shows_as_text(served):
    world, server = served
    client = client_for(server, "archivist")
    html = client.get("/search", params={"q": "script"}).text
    assert "&lt;<mark>script</mark>&gt;alert(" in html
    assert "<script>" not in html
    html = client.get("/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html  # the query echoed back, escaped


def test_r40_id_numbers_masked_unless_allowed_and_the_unmasked_view_is_audited(served):
    world, server = served
    dossier = world["ids"][ARCHIVE_NUMBERS[0]]
    qc = client_for(server, "qc")
    masked = qc.get(f"/dossiers/{dossier}").text
    assert ID_NUMBER not in masked and "3101**********344X" in masked
    hits = qc.get("/search", params={"q": "身份证"}).text
    assert ID_NUMBER not in hits and "3101**********344X" in hits
    before = len(audit_rows(world, "personal.view"))
    full = qc.get(f"/dossiers/{dossier}", params={"unmasked": "1"}).text
    assert ID_NUMBER in full
    rows = audit_rows(world, "personal.view")
    assert len(rows) == before + 1 and rows[-1][0] == "qc9" and rows[-1][2] == ARCHIVE_NUMBERS[0]
    admin = client_for(server, "admin")
    r = admin.get(f"/dossiers/{dossier}", params={"unmasked": "1"})
    assert r.status_code == 403 and ID_NUMBER not in r.text


def test_every_search_and_every_page_view_is_audited(served):
    world, server = served
    client = client_for(server, "archivist")
    searches = len(audit_rows(world, "search"))
    views = len(audit_rows(world, "pages.view"))
    client.get("/search", params={"q": "保"})
    client.get("/search", params={"q": "档案", "year": "2022"})
    page = page_ids(world)[0]
    image = client.get(f"/pages/{page}/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert len(audit_rows(world, "search")) == searches + 2
    rows = audit_rows(world, "pages.view")
    assert len(rows) == views + 1 and rows[-1][0] == "arch9" and '"watermark":"arch9 ' in rows[-1][3]


def test_search_filters_and_short_words(served):
    world, server = served
    client = client_for(server, "clerk")
    one = client.get("/search", params={"q": "保"}).text  # one character
    assert ARCHIVE_NUMBERS[0] in one
    two = client.get("/search", params={"q": "缴费"}).text  # two characters
    assert ARCHIVE_NUMBERS[1] in two and ARCHIVE_NUMBERS[2] in two
    year = client.get("/search", params={"q": "缴费", "year": "2022"}).text
    assert ARCHIVE_NUMBERS[2] in year and ARCHIVE_NUMBERS[1] not in year
    stage = client.get("/search", params={"business_stage": "基金征缴"}).text
    assert ARCHIVE_NUMBERS[2] in stage and ARCHIVE_NUMBERS[0] not in stage
    dept = client.get("/search", params={"q": "档案", "department": "XX市就业服务中心"}).text
    assert ARCHIVE_NUMBERS[2] in dept and ARCHIVE_NUMBERS[1] not in dept
    number = client.get("/search", params={"q": ARCHIVE_NUMBERS[1]}).text
    assert ARCHIVE_NUMBERS[1] in number
    by_id = client.get("/search", params={"q": ID_NUMBER[-6:]}).text
    assert ARCHIVE_NUMBERS[0] in by_id and ID_NUMBER not in by_id
    bad = client.get("/search", params={"q": "档案", "year": "二〇二二"})
    assert bad.status_code == 200 and ("年度筛选须为年份" in bad.text)


@pytest.mark.parametrize(
    "path",
    [
        "/pages/..%2f..%2fcatalog.sqlite",
        "/static/..%2fcatalog.sqlite",
        "/static/../../catalog.sqlite",
        "/dossiers/X001-ZY·DJ·2023·D100-0001-001",
        "/intake/..%2f..%2fstation.json",
        "/pages/1%2f..%2f..%2fkeys",
        "/api/v1/uploads/..%2f..%2fcatalog.sqlite",
    ],
)
def test_no_url_reaches_the_file_system_by_a_name(served, path):
    world, server = served
    client = client_for(server, "archivist")
    r = client.get(path)
    assert r.status_code in (401, 404), (path, r.status_code)
    assert b"SQLite format" not in r.content and b"fonds" not in r.content


def test_pages_need_an_approved_valid_loan_and_are_watermarked(served):
    world, server = served
    clerk = client_for(server, "clerk")
    dossier = world["ids"][ARCHIVE_NUMBERS[2]]
    page = page_ids(world)[4]  # first page of the third dossier (never lent before)
    assert clerk.get(f"/pages/{page}/image").status_code == 403
    loan = new_loan(server, world, which=2)
    assert clerk.get(f"/pages/{page}/image").status_code == 403  # requested, not approved
    archivist = client_for(server, "archivist")
    assert archivist.post(f"/loans/{loan}/approve", data={"csrf": archivist.csrf}).status_code == 303
    image = clerk.get(f"/pages/{page}/image")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    view = clerk.get(f"/dossiers/{dossier}").text
    assert f"/pages/{page}/thumb" in view
    assert clerk.post(f"/loans/{loan}/return", data={"csrf": clerk.csrf}).status_code == 303
    assert clerk.get(f"/pages/{page}/image").status_code == 403  # returned: no more viewing


def test_english_pages_on_request(served):
    world, server = served
    client = client_for(server, "clerk")
    assert "档案检索" in client.get("/search").text
    client.get("/lang", params={"to": "en", "next": "/search"})
    assert "Search the archive" in client.get("/search").text
    r = client.get("/lang", params={"to": "en", "next": "//evil.example/"})
    assert r.headers["location"] == "/search"


def test_login_is_rate_limited(tmp_path):
    world = archive_world(tmp_path)
    world["station"].close()
    server = Server(world["archive_path"]).start()
    try:
        client = httpx.Client(base_url=server.url, follow_redirects=False)
        client.get("/login")
        token = client.cookies.get("ss_login")
        for _ in range(5):
            r = client.post("/login", data={"user": "arch9", "password": "wrong-password", "login_token": token})
            assert r.status_code == 401 and "用户名或密码错误" in r.text
        r = client.post("/login", data={"user": "arch9", "password": PASSWORD, "login_token": token})
        assert r.status_code == 429 and "登录失败次数过多" in r.text
        api = client.post("/api/v1/session", json={"user": "arch9", "password": PASSWORD})
        assert api.status_code == 403 and "Too many failed logins" in api.json()["error"]["en"]
        # another user from the same address is not locked out by arch9's failures
        clerk = httpx.Client(base_url=server.url, follow_redirects=False)
        assert browser_login(clerk, "clerk9").status_code == 303
        assert clerk.get("/search").status_code == 200
        # an account disabled while logged in loses its session at the next request
        db = sqlite3.connect(str(world["archive_path"] / "catalog.sqlite"), timeout=30)
        with db:
            db.execute("UPDATE users SET disabled = 1 WHERE name = 'clerk9'")
        db.close()
        r = clerk.get("/search")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    finally:
        server.stop()
    assert len(audit_rows(world, "web.login_failed")) == 5
