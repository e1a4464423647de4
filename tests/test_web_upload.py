"""Delivery from stations over the network, against the real service process: upload in SM3-checked
chunks, resume after a cut connection, after a restart of the service and after a restart of the
station; the four-property check before the intake queue; the same package again; accept in the
intake page; the signed receipt fetched back; TLS with a self-signed agency certificate."""

from __future__ import annotations

import hashlib
import re
import socket
import sqlite3
import threading

import httpx
import pytest

from scanstation.errors import CheckFailed, ExitCode, InvalidInput, Refused, StorageError
from scanstation.transfer import batches, https_delivery, uploads
from tests.web_fixtures import PASSPHRASE, PASSWORD, Server, archive_world, browser_login, self_signed

CHUNK = 64 * 1024


class CuttingProxy:
    """A TCP proxy in front of the service that drops the connection once, after ``cut_after`` bytes
    from the station have gone through: a network that fails in the middle of an upload."""

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream, self.cut_after = upstream_port, cut_after
        self.forwarded = 0
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, outbound):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if outbound:
                    self.forwarded += len(data)
                    if self.cuts == 0 and self.forwarded > self.cut_after:
                        self.cuts += 1
                        dst.sendall(data[: len(data) // 2])  # half a request arrives, then the line drops
                        raise OSError("cut")
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def world(tmp_path):
    w = archive_world(tmp_path)
    yield w
    w["station"].close()


def send(world, url, **kw):
    station = world["station"]
    kw.setdefault("chunk_size", CHUNK)
    kw.setdefault("first_wait", 0.05)
    return https_delivery.send(
        station.s["clerk1"], world["sealed"]["batch_id"], url, user="station01", password=PASSWORD, **kw
    )


def archive_db(world):
    return sqlite3.connect(f"file:{world['archive_path'] / 'catalog.sqlite'}?mode=ro", uri=True)


def uploads_rows(world):
    conn = archive_db(world)
    try:
        return conn.execute(
            "SELECT upload_id, state, received, size, checks_passed, same_as FROM package_uploads ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_r33_upload_checked_before_the_queue_accepted_in_the_page_and_receipt_fetched(world):
    server = Server(world["archive_path"]).start()
    try:
        result = send(world, server.url)
        zip_path = https_delivery.package_zip(
            world["station"].home, batches.get(world["station"].home.catalog, world["sealed"]["batch_id"])
        )
        assert result["upload_id"] == world["sealed"]["tagmanifest_sm3"] and result["bytes"] == zip_path.stat().st_size
        assert result["archive_state"] == "queued" and result["checks_passed"] == 1 and result["state"] == "sent"
        assert batches.get(world["station"].home.catalog, world["sealed"]["batch_id"])["state"] == "sent"
        stored = world["archive_path"] / "inbox" / "uploads"
        assert [p.suffix for p in stored.iterdir()] == [".zip"]  # named by its row id, under the home
        # the same package again: harmless, the same answer, no second entry in the queue
        again = send(world, server.url)
        assert again["archive_state"] == "queued" and again["upload_id"] == result["upload_id"]
        assert len(uploads_rows(world)) == 1
        # the archive staff accept it in the intake page
        staff = httpx.Client(base_url=server.url, follow_redirects=False, timeout=120)
        assert browser_login(staff, "arch9").status_code == 303
        queue = staff.get("/intake").text
        item = re.search(r'href="/intake/(\d+)" class="item"', queue).group(1)
        page = staff.get(f"/intake/{item}").text
        assert 'id="verdict" class="pass"' in page and "真实性" in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        r = staff.post(f"/intake/{item}/accept", data={"csrf": csrf, "key": "archive", "passphrase": PASSPHRASE})
        assert r.status_code == 303, r.text[-500:]
        assert "已接收" in staff.get(f"/intake/{item}").text
        receipt = staff.get(f"/intake/{item}/receipt")
        assert receipt.status_code == 200 and receipt.json()["receipt"]["decision"] == "accepted"
        # the station fetches the signed receipt and imports it
        fetched = https_delivery.fetch_receipt(
            world["station"].s["clerk1"], world["sealed"]["batch_id"], None, user="station01", password=PASSWORD
        )
        assert fetched["decision"] == "accepted" and fetched["state"] == "received"
        again = https_delivery.fetch_receipt(
            world["station"].s["clerk1"], world["sealed"]["batch_id"], None, user="station01", password=PASSWORD
        )
        assert again.get("already_imported")
        # R38: once received and past keep_years, outbox prune takes the package and its network zip
        from scanstation.transfer import outbox

        review = outbox.prune(world["station"].s["clerk1"], as_of="2099-01-01")
        [entry] = review["prunable"]
        assert any(p.endswith(zip_path.name) for p in entry["paths"]) and len(entry["paths"]) == 2
    finally:
        server.stop()
    conn = archive_db(world)
    try:
        assert conn.execute("SELECT count(*) FROM dossiers WHERE status = 'archived'").fetchone()[0] == 6
    finally:
        conn.close()


def test_resumes_after_the_connection_is_cut_halfway(world):
    server = Server(world["archive_path"]).start()
    zip_size = (
        https_delivery.package_zip(
            world["station"].home, batches.get(world["station"].home.catalog, world["sealed"]["batch_id"])
        )
        .stat()
        .st_size
    )
    proxy = CuttingProxy(server.port, cut_after=zip_size // 2)
    retries = []
    try:
        result = send(world, f"http://127.0.0.1:{proxy.port}", on_retry=lambda n, e, w: retries.append(e))
        assert proxy.cuts == 1 and retries
        assert result["archive_state"] == "queued" and result["checks_passed"] == 1
        # resumed, not restarted: far less than twice the package went through
        assert zip_size <= proxy.forwarded < zip_size * 1.6
        [(upload_id, state, received, size, passed, _)] = uploads_rows(world)
        assert received == size == zip_size and state == "queued"
    finally:
        proxy.close()
        server.stop()


def test_resumes_after_the_service_is_killed_and_restarted(world):
    server = Server(world["archive_path"]).start()
    restarted = []

    def progress(received, size):
        if not restarted and received >= CHUNK:
            server.stop(kill=True)  # the archive's machine stops in the middle of the upload
            restarted.append(received)

    def sleep(seconds):
        if restarted and server.proc.poll() is not None:
            server.start()

    try:
        result = send(world, server.url, progress=progress, sleep=sleep)
        assert restarted and result["archive_state"] == "queued" and result["checks_passed"] == 1
        [(_, state, received, size, _, _)] = uploads_rows(world)
        assert state == "queued" and received == size
    finally:
        server.stop()


def test_resumes_after_the_station_restarts(world):
    server = Server(world["archive_path"]).start()

    class StationStopped(Exception):
        pass

    def stop_after_first_chunk(received, size):
        raise StationStopped

    try:
        with pytest.raises(StationStopped):
            send(world, server.url, progress=stop_after_first_chunk)
        [(upload_id, state, received, size, _, _)] = uploads_rows(world)
        # the first chunk's answer came back; the next chunk was already on its way (the window)
        assert state == "receiving" and received in (CHUNK, 2 * CHUNK) and received < size
        offsets = []
        result = send(world, server.url, progress=lambda r, s: offsets.append(r))
        assert offsets[0] in (received + CHUNK, size)  # went on from where the archive stood, not from 0
        assert result["archive_state"] == "queued" and result["upload_id"] == upload_id
    finally:
        server.stop()


def test_a_check_interrupted_by_a_stop_runs_at_the_next_start(world):
    """A package complete but not yet checked when the service stopped is checked when it starts again."""
    server = Server(world["archive_path"]).start()
    try:
        api = httpx.Client(base_url=server.url, timeout=60)
        token = api.post("/api/v1/session", json={"user": "station01", "password": PASSWORD}).json()["token"]
        head = {"Authorization": f"Bearer {token}"}
        data = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: complete, then its check finds no package
        upload_id = hashlib.new("sm3", data).hexdigest()
        assert (
            api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": len(data)}, headers=head).status_code
            == 200
        )
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/0",
            content=data,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data).hexdigest()},
        )
        assert r.json()["received"] == len(data)
    finally:
        server.stop()
    from scanstation.home import Home

    with Home.open(world["archive_path"]) as home:  # complete while no service runs: stays 'checking'
        from scanstation.service import Session
        from scanstation.users import load_user

        session = Session(home, load_user(home.catalog, "station01")[0])
        chain = uploads.chain_step("", 0, hashlib.new("sm3", data).hexdigest())
        assert uploads.complete(session, upload_id, chain)["state"] == "checking"
    server = Server(world["archive_path"]).start()
    try:
        import time

        for _ in range(100):
            if uploads_rows(world)[0][1] != "checking":
                break
            time.sleep(0.1)
        assert uploads_rows(world)[0][1] in ("queued", "failed")
    finally:
        server.stop()


def test_damaged_chunks_and_oversized_requests_are_refused(world):
    server = Server(world["archive_path"]).start()
    try:
        api = httpx.Client(base_url=server.url, timeout=60)
        token = api.post("/api/v1/session", json={"user": "station01", "password": PASSWORD}).json()["token"]
        head = {"Authorization": f"Bearer {token}"}
        data = b"x" * 1000
        upload_id = hashlib.new("sm3", data).hexdigest()
        assert api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": 1000}, headers=head).status_code == 200
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/0",
            content=data,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", b"y" * 1000).hexdigest()},
        )
        assert r.status_code == 422 and "SM3" in r.json()["error"]["en"]
        assert api.get(f"/api/v1/uploads/{upload_id}", headers=head).json()["received"] == 0
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/500",
            content=data[:10],
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data[:10]).hexdigest()},
        )
        assert r.status_code == 403 and "send from byte 0" in r.json()["error"]["en"]
        r = api.post(f"/api/v1/uploads/{upload_id}/complete", json={"chain": ""}, headers=head)
        assert r.status_code == 403
        big = b"z" * (uploads.MAX_CHUNK + 1)
        r = api.put(f"/api/v1/uploads/{upload_id}/chunks/0", content=big, headers={**head, "X-Chunk-SM3": "0"})
        assert r.status_code == 413
        r = api.post("/api/v1/uploads", json={"upload_id": "a" * 64, "size": 60 * 1024**3}, headers=head)
        assert r.status_code == 403 and "network.max_package_gb" in r.json()["error"]["en"]
        r = api.post("/api/v1/uploads", json={"upload_id": "../../etc", "size": 10}, headers=head)
        assert r.status_code == 400
        # chunks that are not the ones the station sent (their chain differs) are discarded
        fake = "b" * 64
        api.post("/api/v1/uploads", json={"upload_id": fake, "size": 1000}, headers=head)
        api.put(
            f"/api/v1/uploads/{fake}/chunks/0",
            content=data,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data).hexdigest()},
        )
        r = api.post(f"/api/v1/uploads/{fake}/complete", json={"chain": "c" * 64}, headers=head)
        assert r.status_code == 422 and "discarded" in r.json()["error"]["en"]
        assert api.get(f"/api/v1/uploads/{fake}", headers=head).json()["received"] == 0
        # the right chain: complete; the check then finds the bytes are not a package with that identity
        api.put(
            f"/api/v1/uploads/{fake}/chunks/0",
            content=data,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data).hexdigest()},
        )
        chain = uploads.chain_step("", 0, hashlib.new("sm3", data).hexdigest())
        r = api.post(f"/api/v1/uploads/{fake}/complete", json={"chain": chain}, headers=head)
        assert r.status_code == 200 and r.json()["state"] == "checking"
        import time

        for _ in range(100):
            state = api.get(f"/api/v1/uploads/{fake}", headers=head).json()
            if state["state"] != "checking":
                break
            time.sleep(0.1)
        assert state["state"] == "failed" and state["error"]
    finally:
        server.stop()


def test_tls_with_a_self_signed_agency_certificate(world):
    cert, key = self_signed(world["tmp"])
    server = Server(world["archive_path"], tls=(cert, key)).start()
    try:
        with pytest.raises(Refused) as refused:
            send(world, server.url)
        assert "--ca-file" in refused.value.en
        result = send(world, server.url, ca_file=str(cert))
        assert result["archive_state"] == "queued"
        import ssl

        browser = httpx.Client(
            base_url=server.url, verify=ssl.create_default_context(cafile=str(cert)), follow_redirects=False
        )
        r = browser_login(browser, "arch9")
        cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("ss_session=")][0]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "max-age" in browser.get("/search").headers["strict-transport-security"]
    finally:
        server.stop()


def test_plain_http_only_on_loopback(world, tmp_path):
    from scanstation.cli.main import main

    with pytest.raises(Refused):
        https_delivery.base_url("http://192.0.2.10:8443")
    with pytest.raises(InvalidInput):
        https_delivery.base_url("ftp://archive")
    code = main(["--home", str(world["archive_path"]), "archive", "serve", "--bind", "0.0.0.0:8443"])
    assert code == ExitCode.REFUSED
    code = main(["--home", str(world["archive_path"]), "archive", "serve", "--bind", "nonsense"])
    assert code == ExitCode.INVALID_INPUT


def test_the_share_path_still_works_through_the_same_command(world, tmp_path, monkeypatch, capsys):
    from scanstation.cli.main import main

    share = tmp_path / "share"
    share.mkdir()
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    world["station"].close()
    code = main(
        [
            "--home",
            str(world["tmp"] / "station"),
            "--user",
            "clerk1",
            "batch",
            "send",
            world["sealed"]["batch_id"],
            "--to",
            str(share),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (share / world["sealed"]["batch_id"]).is_dir() or any(share.iterdir())
    from scanstation.home import Home

    world["station"].home = Home.open(world["tmp"] / "station")


def test_an_unreachable_archive_gives_a_clear_message_and_keeps_the_batch(world):
    port = __import__("tests.web_fixtures", fromlist=["free_port"]).free_port()
    with pytest.raises(StorageError) as failed:
        send(world, f"http://127.0.0.1:{port}", attempts=2)
    assert "run the same command again to resume" in failed.value.en
    assert batches.get(world["station"].home.catalog, world["sealed"]["batch_id"])["state"] == "sealed"


def test_a_package_zipped_again_differently_after_a_partial_upload_is_discarded_and_sent_whole(world):
    """The station's zip was lost and made again with other bytes after half of it went up: the archive's
    chain of chunks no longer matches at the end, so the mixed file is discarded, never checked, and the
    next send delivers the whole new zip."""
    server = Server(world["archive_path"]).start()

    class StationStopped(Exception):
        pass

    def stop(received, size):
        raise StationStopped

    try:
        with pytest.raises(StationStopped):
            send(world, server.url, progress=stop)
        home = world["station"].home
        zip_path = https_delivery.package_zip(home, batches.get(home.catalog, world["sealed"]["batch_id"]))
        data = bytearray(zip_path.read_bytes())
        data[:CHUNK] = bytes(CHUNK)  # the first chunk differs from what the archive holds
        zip_path.write_bytes(bytes(data))
        with pytest.raises(CheckFailed) as discarded:
            send(world, server.url)
        assert "discarded" in discarded.value.en
        [(_, state, received, _, _, _)] = uploads_rows(world)
        assert state == "receiving" and received == 0
        zip_path.unlink()  # made again from the sealed package
        result = send(world, server.url)
        assert result["archive_state"] == "queued" and result["checks_passed"] == 1
    finally:
        server.stop()


def test_batch_send_and_receipt_fetch_from_the_command_line(world, monkeypatch, capsys):
    from scanstation.cli.main import main

    server = Server(world["archive_path"]).start()
    station_home = world["tmp"] / "station"
    world["station"].close()
    try:
        monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
        base = ["--home", str(station_home), "--user", "clerk1"]
        code = main(base + ["batch", "send", world["sealed"]["batch_id"], "--to", server.url, "--chunk-mb", "1"])
        assert code == ExitCode.REFUSED and "SCANSTATION_REMOTE_USER" in capsys.readouterr().err
        monkeypatch.setenv("SCANSTATION_REMOTE_USER", "station01")
        monkeypatch.setenv("SCANSTATION_REMOTE_PASSWORD", PASSWORD)
        code = main(
            base + ["--json", "batch", "send", world["sealed"]["batch_id"], "--to", server.url, "--chunk-mb", "1"]
        )
        out = capsys.readouterr().out
        assert code == 0 and '"archive_state": "queued"' in out
        code = main(base + ["receipt", "fetch", world["sealed"]["batch_id"]])
        err = capsys.readouterr().err
        assert code == ExitCode.NOT_FOUND and "尚无回执" in err  # not decided yet: a plain message, no traceback
        monkeypatch.setenv("SCANSTATION_REMOTE_PASSWORD", "wrong-password")
        code = main(base + ["receipt", "fetch", world["sealed"]["batch_id"]])
        assert code == ExitCode.REFUSED and "用户名或密码错误" in capsys.readouterr().err
    finally:
        server.stop()
        from scanstation.home import Home

        world["station"].home = Home.open(station_home)


def test_r34_reject_in_the_intake_page_with_reasons_and_the_station_gets_its_dossiers_back(world):
    server = Server(world["archive_path"]).start()
    try:
        send(world, server.url)
        staff = httpx.Client(base_url=server.url, follow_redirects=False, timeout=120)
        assert browser_login(staff, "arch9").status_code == 303
        item = re.search(r'href="/intake/(\d+)" class="item"', staff.get("/intake").text).group(1)
        page = staff.get(f"/intake/{item}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        # a wrong passphrase: refused with the reason, nothing decided
        r = staff.post(
            f"/intake/{item}/reject",
            data={"csrf": csrf, "key": "archive", "passphrase": "wrong", "reasons": "题名不全"},
        )
        assert r.status_code in (400, 403) and "待处理" in staff.get(f"/intake/{item}").text
        r = staff.post(
            f"/intake/{item}/reject",
            data={"csrf": csrf, "key": "archive", "passphrase": PASSPHRASE, "reasons": "题名不全\n页码与目录不符"},
        )
        assert r.status_code == 303
        assert "已退回" in staff.get(f"/intake/{item}").text
        fetched = https_delivery.fetch_receipt(
            world["station"].s["clerk1"], world["sealed"]["batch_id"], None, user="station01", password=PASSWORD
        )
        assert fetched["decision"] == "rejected" and fetched["state"] == "rejected"
        assert "题名不全" in fetched["reasons"]
    finally:
        server.stop()


def _api(server):
    api = httpx.Client(base_url=server.url, timeout=60)
    token = api.post("/api/v1/session", json={"user": "station01", "password": PASSWORD}).json()["token"]
    return api, {"Authorization": f"Bearer {token}"}


def _part_size(world) -> int:
    parts = list((world["archive_path"] / "inbox" / "uploads").glob("*.part"))
    return sum(p.stat().st_size for p in parts)


def test_a_chunk_cut_off_midway_counts_for_nothing_and_is_sent_again(world):
    """The line drops after half of a chunk's body: nothing of it is written or counted, and the same
    chunk sent again is stored."""
    server = Server(world["archive_path"]).start()
    try:
        api, head = _api(server)
        data = bytes(range(256)) * 1024
        upload_id = "d" * 64
        assert api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": len(data)}, headers=head).is_success
        digest = hashlib.new("sm3", data).hexdigest()
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(
                (
                    f"PUT /api/v1/uploads/{upload_id}/chunks/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: {head['Authorization']}\r\nX-Chunk-SM3: {digest}\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                + data[: len(data) // 2]
            )
        assert api.get(f"/api/v1/uploads/{upload_id}", headers=head).json()["received"] == 0
        assert _part_size(world) == 0
        r = api.put(f"/api/v1/uploads/{upload_id}/chunks/0", content=data, headers={**head, "X-Chunk-SM3": digest})
        assert r.status_code == 200 and r.json()["received"] == len(data) == _part_size(world)
    finally:
        server.stop()


def test_a_damaged_chunk_is_not_stored_and_a_chunk_without_a_length_is_refused(world):
    server = Server(world["archive_path"]).start()
    try:
        api, head = _api(server)
        data = b"x" * 300_000  # more than one hashing step arrives in several pieces
        upload_id = "e" * 64
        api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": len(data)}, headers=head)
        damaged = data[:-1] + b"y"
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/0",
            content=damaged,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data).hexdigest()},
        )
        assert r.status_code == 422 and "SM3" in r.json()["error"]["en"]
        assert api.get(f"/api/v1/uploads/{upload_id}", headers=head).json()["received"] == 0
        assert _part_size(world) == 0
        # a body of unknown length (chunked transfer encoding) is not read into memory
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/0",
            content=iter([data[:1000], data[1000:]]),
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", data).hexdigest()},
        )
        assert r.status_code == 411 and "Content-Length" in r.json()["error"]["en"]
        # no chunk is read for a request without a valid session
        r = api.put(f"/api/v1/uploads/{upload_id}/chunks/0", content=data, headers={"X-Chunk-SM3": "0"})
        assert r.status_code == 401
        assert api.get(f"/api/v1/uploads/{upload_id}", headers=head).json()["received"] == 0
    finally:
        server.stop()


def test_a_chunk_arriving_before_the_one_it_follows_waits_for_it(world):
    """With several chunks on their way, the next one may arrive while the one before is still coming in:
    it waits and is stored after it; a chunk with nothing arriving before it is refused at once."""
    import time

    server = Server(world["archive_path"]).start()
    try:
        api, head = _api(server)
        first, second = b"a" * 200_000, b"b" * 100_000
        upload_id = "f" * 64
        api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": 300_000}, headers=head)
        started = time.monotonic()
        r = api.put(
            f"/api/v1/uploads/{upload_id}/chunks/{len(first)}",
            content=second,
            headers={**head, "X-Chunk-SM3": hashlib.new("sm3", second).hexdigest()},
        )
        assert r.status_code == 403 and "send from byte 0" in r.json()["error"]["en"]
        assert time.monotonic() - started < 5
        # the first chunk comes in slowly on another connection; the second is sent meanwhile
        raw = socket.create_connection(("127.0.0.1", server.port))
        raw.sendall(
            (
                f"PUT /api/v1/uploads/{upload_id}/chunks/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {head['Authorization']}\r\nX-Chunk-SM3: {hashlib.new('sm3', first).hexdigest()}\r\n"
                f"Content-Length: {len(first)}\r\n\r\n"
            ).encode()
            + first[:1000]
        )
        answers = []
        later = threading.Thread(
            target=lambda: answers.append(
                api.put(
                    f"/api/v1/uploads/{upload_id}/chunks/{len(first)}",
                    content=second,
                    headers={**head, "X-Chunk-SM3": hashlib.new("sm3", second).hexdigest()},
                )
            )
        )
        later.start()
        time.sleep(1.0)
        assert not answers  # waiting for the first chunk
        raw.sendall(first[1000:])
        later.join(timeout=60)
        raw.close()
        assert answers[0].status_code == 200 and answers[0].json()["received"] == 300_000
        assert _part_size(world) == 300_000
        # chunks waiting hold worker threads: beyond uploads.WAITING_MAX one is refused at once
        upload_id = "c" * 64
        api.post("/api/v1/uploads", json={"upload_id": upload_id, "size": 300_000}, headers=head)
        raw = socket.create_connection(("127.0.0.1", server.port))
        raw.sendall(
            (
                f"PUT /api/v1/uploads/{upload_id}/chunks/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {head['Authorization']}\r\nX-Chunk-SM3: {hashlib.new('sm3', first).hexdigest()}\r\n"
                f"Content-Length: {len(first)}\r\n\r\n"
            ).encode()
            + first[:1000]
        )
        time.sleep(0.5)
        waiting = []

        def put_second():
            with httpx.Client(base_url=server.url, timeout=60) as own:
                waiting.append(
                    own.put(
                        f"/api/v1/uploads/{upload_id}/chunks/{len(first)}",
                        content=second,
                        headers={**head, "X-Chunk-SM3": hashlib.new("sm3", second).hexdigest()},
                    )
                )

        threads = [threading.Thread(target=put_second) for _ in range(uploads.WAITING_MAX)]
        for t in threads:
            t.start()
        time.sleep(3.0)
        assert not waiting  # all of them wait for the first chunk
        started = time.monotonic()
        put_second()
        assert waiting[0].status_code == 403 and time.monotonic() - started < 5
        raw.sendall(first[1000:])
        for t in threads:
            t.join(timeout=60)
        raw.close()
        assert [r.status_code for r in waiting[1:]] == [200] * uploads.WAITING_MAX
        assert api.get(f"/api/v1/uploads/{upload_id}", headers=head).json()["received"] == 300_000
    finally:
        server.stop()
