"""The archive's network service (Starlette): a shell over the service layer, like cli/ and ui/.

Every endpoint names the permission it needs and calls the core, which checks the role again,
makes the change and writes the audit entry. Nothing here touches SQL or decides a business rule.
Pages are rendered on the server with Jinja2 (autoescape on: OCR text, catalog fields and file
names are always text). No URL carries a file name: dossiers, pages, loans and packages are
named by their catalog ids and looked up.

Browser pages use a session cookie and a CSRF token in every form; the station API under
``/api/v1`` uses a bearer token and never a cookie.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations, before a home is opened)
from scanstation import __version__
from scanstation.custody import lending, reading_room
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused, ScanStationError, StorageError
from scanstation.service import Session
from scanstation.transfer import uploads
from scanstation.users import authenticate, row_to_user
from scanstation.web import security

HERE = Path(__file__).parent
STATUS = {InvalidInput: 400, Refused: 403, NotFound: 404, CheckFailed: 422, StorageError: 507}
FIELD_ZH = {
    "text": "正文",
    "number": "档号",
    "title": "题名",
    "person_name": "姓名",
    "employer": "单位",
    "person_id_number": "身份证号",
}
MAX_FORM_BYTES = 64 * 1024


def status_of(exc: ScanStationError) -> int:
    for cls, code in STATUS.items():
        if isinstance(exc, cls):
            return code
    return 400


@dataclass
class Ctx:
    """What a page handler gets: the request, the acting user's service session, the language."""

    request: Request
    session: Session | None
    web: security.WebSession | None
    lang: str
    form: dict
    app: ArchiveWeb

    def t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh

    def msg(self, exc: ScanStationError) -> str:
        return exc.en if self.lang == "en" else exc.zh

    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        return self.app.render(self, template, status, **values)

    def param(self, name: str, default: str = "") -> str:
        return str(self.request.query_params.get(name, default))[:500]


def _marked(text: str) -> Markup:
    """A search snippet with its match marked: escaped first, then 【】 become <mark>."""
    return Markup(str(escape(text or "")).replace("【", "<mark>").replace("】", "</mark>"))


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/search"


class ArchiveWeb:
    """One running service over one open archive home."""

    def __init__(self, home, *, tls: bool, check_workers: int = 1):
        self.home = home
        self.tls = tls
        minutes = float(home.setting("network.session_minutes") or 30)
        self.sessions = security.SessionStore(idle_seconds=minutes * 60)
        self.limiter = security.LoginLimiter()
        self.checks = ThreadPoolExecutor(max_workers=check_workers, thread_name_prefix="package-check")
        self.hashing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chunk-sm3")
        self.env = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self._choices = None
        self._choices_lock = threading.Lock()
        self.env.filters["marked"] = _marked
        self.env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2)

    # -- plumbing ---------------------------------------------------------------------------
    def filter_choices(self) -> dict:
        """The search form's filter values (they change with intake only): read again at most once a
        minute, by one thread while the others go on with the values they have. Without that, every
        worker re-read them at the same moment when they expired -- four scans of the dossiers each --
        and all searches stalled for seconds."""
        import time

        from scanstation import search

        cached = self._choices
        if cached is not None and time.monotonic() - cached[0] <= 60:
            return cached[1]
        if self._choices_lock.acquire(blocking=cached is None):
            try:
                cached = self._choices
                if cached is None or time.monotonic() - cached[0] > 60:
                    self._choices = (time.monotonic(), search.filter_choices(self.home.catalog.reader()))
            finally:
                self._choices_lock.release()
        return self._choices[1]

    def render(self, ctx: Ctx, template: str, status: int = 200, **values) -> HTMLResponse:
        html = self.env.get_template(template).render(
            t=ctx.t,
            lang=ctx.lang,
            user=ctx.session.user if ctx.session else None,
            csrf=ctx.web.csrf if ctx.web else "",
            can=(ctx.session.can if ctx.session else (lambda p: False)),
            path=ctx.request.url.path,
            query=ctx.request.url.query,
            version=__version__,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def user_session(self, name: str) -> Session | None:
        row = self.home.catalog.one("SELECT * FROM users WHERE name = ?", (name,))
        if row is None:
            return None
        user = row_to_user(row)
        return None if user.disabled else Session(self.home, user)

    def lang_of(self, request: Request) -> str:
        return "en" if request.cookies.get(security.LANG_COOKIE) == "en" else "zh_CN"

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=self.tls, path="/")

    def submit_check(self, upload_id: str, user: str) -> None:
        def run():
            session = self.user_session(user) or Session(
                self.home, row_to_user({"id": 0, "name": user, "roles": "clerk", "disabled": 0})
            )
            try:
                uploads.check(session, upload_id)
            except Exception:  # the row stays 'checking' and is checked again at the next start
                import logging

                logging.getLogger("scanstation.web").exception("check of upload %s failed", upload_id[:16])

        self.checks.submit(run)

    def recover(self) -> None:
        """Packages that were complete but not checked when the service stopped are checked now."""
        for upload_id in uploads.pending_checks(self.home.catalog):
            row = self.home.catalog.one("SELECT uploaded_by FROM package_uploads WHERE upload_id = ?", (upload_id,))
            self.submit_check(upload_id, row["uploaded_by"])


def page(permission: str | None = None, *, login: bool = True):
    """Decorate a browser handler ``fn(ctx) -> Response``: session, role, CSRF, errors, in a worker thread."""

    def decorate(fn):
        async def endpoint(request: Request):
            app: ArchiveWeb = request.app.state.web
            form = {}
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
                    return Response("Request too large", status_code=413)
                form = {
                    k: v for k, v in (await request.form(max_files=0, max_fields=200)).items() if isinstance(v, str)
                }
            return await run_in_threadpool(_handle, fn, app, request, form, permission, login)

        endpoint.__name__ = fn.__name__
        return endpoint

    return decorate


def _handle(fn, app: ArchiveWeb, request: Request, form: dict, permission, login: bool) -> Response:
    lang = app.lang_of(request)
    web = app.sessions.get(request.cookies.get(security.COOKIE), "browser")
    session = app.user_session(web.user) if web else None
    if session is None and web is not None:
        app.sessions.drop(web.token)
        web = None
    ctx = Ctx(request, session, web, lang, form, app)
    if login and session is None:
        if request.method == "GET":
            return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
        return ctx.render("error.html", 401, message=ctx.t("请先登录。", "Please log in first."))
    if request.method == "POST" and login and not security.same(form.get("csrf"), web.csrf):
        return ctx.render(
            "error.html",
            403,
            message=ctx.t(
                "表单已失效（CSRF 校验失败），请刷新页面后重试。",
                "The form has expired (CSRF check failed); reload and try again.",
            ),
        )
    try:
        if permission and session is not None:
            session.require(permission)
        return fn(ctx)
    except ScanStationError as exc:
        return ctx.render("error.html", status_of(exc), message=ctx.msg(exc))


# -- browser pages ----------------------------------------------------------------------------
@page(login=False)
def login_form(ctx: Ctx) -> Response:
    import secrets

    token = ctx.request.cookies.get(security.PRE_COOKIE) or secrets.token_urlsafe(24)
    response = ctx.render("login.html", login_token=token, next=_safe_next(ctx.param("next", "/search")), error="")
    ctx.app.set_cookie(response, security.PRE_COOKIE, token, max_age=3600)
    return response


@page(login=False)
def login_submit(ctx: Ctx) -> Response:
    form = ctx.form
    token = ctx.request.cookies.get(security.PRE_COOKIE)
    target = _safe_next(form.get("next", "/search"))
    name = (form.get("user") or "").strip()[:64]
    if not security.same(form.get("login_token"), token):
        return ctx.render(
            "login.html",
            403,
            login_token=token or "",
            next=target,
            error=ctx.t("登录表单已失效，请刷新页面后重试。", "The login form expired; reload the page and try again."),
        )
    address = ctx.request.client.host if ctx.request.client else "?"
    wait = ctx.app.limiter.wait_seconds(address, name)
    if wait:
        return ctx.render(
            "login.html",
            429,
            login_token=token,
            next=target,
            error=ctx.t(
                f"登录失败次数过多，请 {wait} 秒后再试。", f"Too many failed logins; try again in {wait} seconds."
            ),
        )
    try:
        user = authenticate(ctx.app.home.catalog, name, form.get("password") or "")
    except ScanStationError as exc:
        ctx.app.limiter.failed(address, name)
        Session(ctx.app.home, row_to_user({"id": 0, "name": name or "?", "roles": "clerk", "disabled": 0})).log(
            "web.login_failed", "user", name or "?", {"address": address}
        )
        return ctx.render("login.html", 401, login_token=token, next=target, error=ctx.msg(exc))
    ctx.app.limiter.succeeded(address, name)
    web = ctx.app.sessions.create(user.name, "browser")
    Session(ctx.app.home, user).log("web.login", "user", user.name, {"address": address})
    response = RedirectResponse(target, status_code=303)
    ctx.app.set_cookie(response, security.COOKIE, web.token)
    response.delete_cookie(security.PRE_COOKIE, path="/")
    return response


@page()
def logout(ctx: Ctx) -> Response:
    ctx.app.sessions.drop(ctx.web.token)
    ctx.session.log("web.logout", "user", ctx.session.user.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.COOKIE, path="/")
    return response


@page(login=False)
def language(ctx: Ctx) -> Response:
    response = RedirectResponse(_safe_next(ctx.param("next", "/search")), status_code=303)
    ctx.app.set_cookie(
        response, security.LANG_COOKIE, "en" if ctx.param("to") == "en" else "zh_CN", max_age=365 * 86400
    )
    return response


@page()
def home_page(ctx: Ctx) -> Response:
    return RedirectResponse("/search", status_code=303)


@page("catalog.read")
def search_page(ctx: Ctx) -> Response:
    from scanstation import search

    query = ctx.param("q").strip()
    filters = {name: ctx.param(name) for name in search.FILTER_FIELDS}
    unmasked = ctx.param("unmasked") == "1"
    hits, error = None, ""
    if query or any(filters.values()):
        try:
            hits = search.search_as(
                ctx.session, query, limit=50, unmasked=unmasked, filters=filters, conn=ctx.app.home.catalog.reader()
            )
        except InvalidInput as exc:
            error = ctx.msg(exc)
    choices = ctx.app.filter_choices()
    return ctx.render(
        "search.html",
        q=query,
        filters=filters,
        choices=choices,
        hits=hits,
        error=error,
        unmasked=unmasked,
        field_zh=FIELD_ZH,
    )


@page("catalog.read")
def dossier_page(ctx: Ctx) -> Response:
    unmasked = ctx.param("unmasked") == "1"
    view = reading_room.dossier(ctx.session, ctx.request.path_params["dossier_id"], unmasked=unmasked)
    return ctx.render("dossier.html", view=view, d=view["dossier"], unmasked=unmasked)


@page("catalog.read")
def page_viewer(ctx: Ctx) -> Response:
    info = reading_room.page(ctx.session, ctx.request.path_params["page_id"])
    return ctx.render("page.html", p=info)


def _image(ctx: Ctx, thumbnail: bool) -> Response:
    data = reading_room.page_image(ctx.session, ctx.request.path_params["page_id"], thumbnail=thumbnail)
    return Response(data, media_type="image/jpeg", headers={"content-disposition": "inline"})


@page("catalog.read")
def page_image(ctx: Ctx) -> Response:
    return _image(ctx, False)


@page("catalog.read")
def page_thumb(ctx: Ctx) -> Response:
    return _image(ctx, True)


@page("lend.request")
def loans_page(ctx: Ctx) -> Response:
    return ctx.render("loans.html", loans=reading_room.loans_view(ctx.session), notice=ctx.param("notice"))


def _int(value, what_en: str, what_zh: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(what_en + " must be a whole number.", what_zh + "须为整数。") from None


@page("lend.request")
def loan_request(ctx: Ctx) -> Response:
    number = reading_room.number_of(ctx.session, _int(ctx.form.get("dossier_id"), "The dossier", "案卷编号"))
    days = _int(ctx.form.get("days") or "1", "The loan period", "借阅期限")
    loan = lending.request(ctx.session, number, ctx.form.get("reason", "")[:500], days)
    return RedirectResponse(f"/loans?notice=requested-{loan['id']}", status_code=303)


@page("lend.approve")
def loan_approve(ctx: Ctx) -> Response:
    lending.approve(ctx.session, ctx.request.path_params["loan_id"])
    return RedirectResponse("/loans", status_code=303)


@page("lend.approve")
def loan_reject(ctx: Ctx) -> Response:
    lending.reject(ctx.session, ctx.request.path_params["loan_id"], ctx.form.get("reason", "")[:500])
    return RedirectResponse("/loans", status_code=303)


@page("lend.request")
def loan_return(ctx: Ctx) -> Response:
    lending.return_loan(ctx.session, ctx.request.path_params["loan_id"])
    return RedirectResponse("/loans", status_code=303)


@page("receive")
def intake_page(ctx: Ctx) -> Response:
    return ctx.render("intake.html", items=uploads.queue(ctx.session))


@page("receive")
def intake_item(ctx: Ctx) -> Response:
    from scanstation.transfer import keys

    item = uploads.report(ctx.session, ctx.request.path_params["item_id"])
    key_names = [k["name"] for k in keys.list_keys(ctx.app.home)["signing"] if "error" not in k]
    return ctx.render("intake_item.html", item=item, report=item["report"], key_names=key_names)


def _decide(ctx: Ctx, decision: str) -> Response:
    reasons = [r.strip() for r in re.split(r"[\r\n]+", ctx.form.get("reasons", "")) if r.strip()][:50]
    result = uploads.decide(
        ctx.session,
        ctx.request.path_params["item_id"],
        decision,
        reasons=reasons,
        key_name=ctx.form.get("key") or None,
        passphrase=ctx.form.get("passphrase", ""),
    )
    return RedirectResponse(f"/intake/{result['id']}", status_code=303)


@page("receive")
def intake_accept(ctx: Ctx) -> Response:
    return _decide(ctx, "accept")


@page("receive")
def intake_reject(ctx: Ctx) -> Response:
    return _decide(ctx, "reject")


@page("receive")
def intake_receipt(ctx: Ctx) -> Response:
    envelope = uploads.receipt(ctx.session, ident=ctx.request.path_params["item_id"])
    return Response(
        json.dumps(envelope, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"content-disposition": "attachment; filename=receipt.json"},
    )


# -- the station API ----------------------------------------------------------------------------
def _api_error(exc: ScanStationError, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"kind": type(exc).__name__ if type(exc) in STATUS else "Refused", "en": exc.en, "zh": exc.zh}},
        status_code=status or status_of(exc),
    )


HASH_STEP = 1 << 20  # SM3 of a chunk is computed in steps this size while the rest still arrives


def _too_big() -> JSONResponse:
    return _api_error(
        InvalidInput("A chunk may hold at most {m} bytes.", "每个数据块最多 {m} 字节。", m=uploads.MAX_CHUNK), 413
    )


async def _receive_chunk(app: ArchiveWeb, request: Request):
    """A chunk's bytes and their SM3, hashed while the chunk arrives: each 1 MiB of the body goes to a
    hashing thread (hashlib releases the GIL) while the event loop decrypts and reads the next one,
    so the digest is ready when the last byte is. Memory grows only with the bytes that arrived (at
    most ``uploads.MAX_CHUNK``), so a request that declares a large body and sends little holds little."""
    import asyncio

    from starlette.requests import ClientDisconnect

    try:
        declared = int(request.headers.get("content-length", ""))
    except ValueError:
        return _api_error(
            InvalidInput("A chunk is sent with its length (Content-Length).", "数据块须带长度（Content-Length）发送。"),
            411,
        )
    if declared > uploads.MAX_CHUNK:
        return _too_big()
    hasher = uploads.sm3()
    loop = asyncio.get_running_loop()
    blocks: list[bytearray] = []
    block, pending, size = bytearray(), None, 0
    try:
        async for piece in request.stream():
            size += len(piece)
            if size > declared:  # the server's HTTP parser stops at the length; never trust that alone
                return _too_big()
            block += piece
            if len(block) >= HASH_STEP:  # handed over whole and never changed again
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(app.hashing, hasher.update, block)
                blocks.append(block)
                block = bytearray()
        if pending is not None:
            await pending
    except ClientDisconnect:  # the line dropped halfway: nothing of this chunk counts
        return Response(status_code=400)
    if size != declared:
        return Response(status_code=400)
    hasher.update(block)
    blocks.append(block)
    return b"".join(blocks), hasher.hexdigest()


def api(permission: str | None, *, raw_body: bool = False, json_body: bool = False):
    def decorate(fn):
        async def endpoint(request: Request):
            app: ArchiveWeb = request.app.state.web
            body = None
            if raw_body:
                if permission is not None and _api_web_session(app, request) is None:  # before reading 16 MiB
                    return _login_first()
                with uploads.arriving(request.path_params["upload_id"], request.path_params["offset"]):
                    body = await _receive_chunk(app, request)
                    if isinstance(body, Response):
                        return body
                    return await run_in_threadpool(_api_handle, fn, app, request, body, permission)
            elif json_body:
                if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
                    return JSONResponse({"error": {"kind": "InvalidInput", "en": "too large", "zh": "请求过大"}}, 413)
                try:
                    body = json.loads(await request.body() or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError
                except ValueError:
                    return _api_error(InvalidInput("The request is not a JSON object.", "请求不是 JSON 对象。"))
            return await run_in_threadpool(_api_handle, fn, app, request, body, permission)

        endpoint.__name__ = fn.__name__
        return endpoint

    return decorate


def _api_web_session(app: ArchiveWeb, request: Request) -> security.WebSession | None:
    auth = request.headers.get("authorization", "")
    return app.sessions.get(auth[7:] if auth.lower().startswith("bearer ") else None, "api")


def _login_first() -> JSONResponse:
    return _api_error(Refused("Log in first (POST /api/v1/session).", "请先登录（POST /api/v1/session）。"), 401)


def _api_handle(fn, app: ArchiveWeb, request: Request, body, permission) -> Response:
    session = None
    if permission is not None:
        web = _api_web_session(app, request)
        session = app.user_session(web.user) if web else None
        if session is None:
            return _login_first()
    try:
        if session is not None and permission:
            session.require(permission)
        return JSONResponse(fn(app, request, session, body))
    except ScanStationError as exc:
        return _api_error(exc)


@api(None, json_body=True)
def api_login(app: ArchiveWeb, request: Request, _session, body) -> dict:
    name = str(body.get("user", ""))[:64]
    address = request.client.host if request.client else "?"
    wait = app.limiter.wait_seconds(address, name)
    if wait:
        raise Refused(
            "Too many failed logins; try again in {s} seconds.", "登录失败次数过多，请 {s} 秒后再试。", s=wait
        )
    try:
        user = authenticate(app.home.catalog, name, str(body.get("password", "")))
    except ScanStationError:
        app.limiter.failed(address, name)
        raise
    app.limiter.succeeded(address, name)
    Session(app.home, user).require("package.deliver")
    web = app.sessions.create(user.name, "api")
    Session(app.home, user).log("web.api_login", "user", user.name, {"address": address})
    return {"token": web.token, "user": user.name}


@api("package.deliver", json_body=True)
def api_begin(app, request, session, body) -> dict:
    size = body.get("size")
    return uploads.begin(
        session, str(body.get("upload_id", "")), size if isinstance(size, int) else -1, str(body.get("batch_id", ""))
    )


@api("package.deliver")
def api_status(app, request, session, body) -> dict:
    return uploads.answer(session, request.path_params["upload_id"])


@api("package.deliver", raw_body=True)
def api_chunk(app, request, session, body) -> dict:
    data, received_sm3 = body
    return uploads.put_chunk(
        session,
        request.path_params["upload_id"],
        request.path_params["offset"],
        data,
        request.headers.get("x-chunk-sm3", ""),
        received_sm3=received_sm3,
    )


@api("package.deliver", json_body=True)
def api_complete(app, request, session, body) -> dict:
    info = uploads.complete(session, request.path_params["upload_id"], str(body.get("chain", "")))
    if info["state"] == "checking":
        app.submit_check(info["upload_id"], session.user.name)
    return info


@api("package.deliver")
def api_receipt(app, request, session, body) -> dict:
    return uploads.receipt(session, request.path_params["upload_id"])


def create_app(home, *, tls: bool, threads: int = 32) -> Starlette:
    web = ArchiveWeb(home, tls=tls)
    routes = [
        Route("/", home_page),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/lang", language, methods=["GET"]),
        Route("/search", search_page),
        Route("/dossiers/{dossier_id:int}", dossier_page),
        Route("/pages/{page_id:int}", page_viewer),
        Route("/pages/{page_id:int}/image", page_image),
        Route("/pages/{page_id:int}/thumb", page_thumb),
        Route("/loans", loans_page, methods=["GET"]),
        Route("/loans", loan_request, methods=["POST"]),
        Route("/loans/{loan_id:int}/approve", loan_approve, methods=["POST"]),
        Route("/loans/{loan_id:int}/reject", loan_reject, methods=["POST"]),
        Route("/loans/{loan_id:int}/return", loan_return, methods=["POST"]),
        Route("/intake", intake_page),
        Route("/intake/{item_id:int}", intake_item),
        Route("/intake/{item_id:int}/accept", intake_accept, methods=["POST"]),
        Route("/intake/{item_id:int}/reject", intake_reject, methods=["POST"]),
        Route("/intake/{item_id:int}/receipt", intake_receipt),
        Route("/api/v1/session", api_login, methods=["POST"]),
        Route("/api/v1/uploads", api_begin, methods=["POST"]),
        Route("/api/v1/uploads/{upload_id:str}", api_status, methods=["GET"]),
        Route("/api/v1/uploads/{upload_id:str}/chunks/{offset:int}", api_chunk, methods=["PUT"]),
        Route("/api/v1/uploads/{upload_id:str}/complete", api_complete, methods=["POST"]),
        Route("/api/v1/uploads/{upload_id:str}/receipt", api_receipt, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        await run_in_threadpool(web.filter_choices)  # ready before the first search
        web.recover()
        yield
        web.checks.shutdown(wait=True)
        web.hashing.shutdown(wait=True)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.web = web
    app.add_middleware(security.SecurityHeaders, tls=tls)
    return app


__all__ = ["ArchiveWeb", "create_app"]
