"""Delivering a sealed package to the archive over HTTPS (station side), and fetching its receipt.

``send`` zips the sealed package once into the outbox, beside it (the same bytes on every attempt,
so a restart of the station resumes the same upload), names it by the SM3 of its signed tag
manifest and uploads it in chunks of ``chunk_size`` bytes, each with its SM3 (and a chain of those
digests checked at the end), to the archive's ``scanstation archive serve``
(protocol in ``scanstation.transfer.uploads``). A dropped connection, a stopped server or a
restarted station resumes at the offset the archive reports; consecutive failures are retried
with back-off up to ``attempts``. When every byte is there the archive checks the whole package
(four properties) and queues it; sending the same package again gets the same answer.

The client is httpx with certificate verification always on: the system's CAs, or the agency's
own CA given with ``ca_file`` (self-signed agency certificates). Plain http is refused except to
this machine (loopback), as the service itself does. The archive account (``package.deliver``)
is the station's account on the archive, not the station's own user.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused, StorageError
from scanstation.home import now_iso
from scanstation.storage.files import copy_hashed
from scanstation.transfer import batches, require_schema, zip_package

API = "/api/v1"
DEFAULT_CHUNK = 16 << 20
WINDOW = 2  # chunks on their way at once
ERROR_CLASSES = {
    "InvalidInput": InvalidInput,
    "Refused": Refused,
    "NotFound": NotFound,
    "CheckFailed": CheckFailed,
    "StorageError": StorageError,
}


def base_url(url: str) -> str:
    """The archive's address, checked: https, or http only to this machine."""
    text = str(url or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(
            "'{u}' is not an archive address; give one like https://archive.example:8443",
            "“{u}”不是档案室地址；请填写如 https://archive.example:8443 的地址。",
            u=text,
        )
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise Refused(
            "Packages are sent to another machine only over https (the data is personal, R40).",
            "向其他计算机发送移交包只能使用 https（含个人信息，R40）。",
        )
    return f"{parts.scheme}://{parts.netloc}"


class Client:
    """One archive account's connection to ``scanstation archive serve``."""

    def __init__(self, url: str, user: str, password: str, *, ca_file: str | None = None, timeout: float = 60.0):
        import httpx

        self.base = base_url(url)
        if ca_file and not Path(ca_file).is_file():
            raise NotFound("The CA file {f} does not exist.", "CA 证书文件 {f} 不存在。", f=str(ca_file))
        self.user, self.password = user, password
        if not user or not password:
            raise Refused(
                "The archive account is needed: set SCANSTATION_REMOTE_USER and SCANSTATION_REMOTE_PASSWORD "
                "(or --remote-user).",
                "需要档案室账户：请设置 SCANSTATION_REMOTE_USER 与 SCANSTATION_REMOTE_PASSWORD（或 --remote-user）。",
            )
        import ssl

        verify = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self.http = httpx.Client(base_url=self.base, verify=verify, timeout=httpx.Timeout(timeout, connect=10.0))
        self.token = ""

    def close(self) -> None:
        self.http.close()

    def _raise(self, response) -> None:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        cls = ERROR_CLASSES.get(error.get("kind"), Refused)
        en = error.get("en") or f"The archive answered {response.status_code}."
        zh = error.get("zh") or f"档案室返回 {response.status_code}。"
        raise cls(en.replace("{", "(").replace("}", ")"), zh.replace("{", "(").replace("}", ")"))

    def login(self) -> None:
        response = self.http.post(f"{API}/session", json={"user": self.user, "password": self.password})
        if response.status_code != 200:
            self._raise(response)
        self.token = response.json()["token"]

    def call(self, method: str, path: str, **kw):
        if not self.token:
            self.login()
        headers = dict(kw.pop("headers", {}), Authorization=f"Bearer {self.token}")
        response = self.http.request(method, f"{API}{path}", headers=headers, **kw)
        if response.status_code == 401:  # the service restarted or the session ended: log in again
            self.login()
            headers["Authorization"] = f"Bearer {self.token}"
            response = self.http.request(method, f"{API}{path}", headers=headers, **kw)
        if response.status_code >= 400:
            self._raise(response)
        return response.json()


def sm3_file(path: Path) -> str:
    return copy_hashed(path, sha256=False)[2]


def package_zip(home, batch: dict) -> Path:
    """The package as one .zip beside it in the outbox (made once; kept while the batch is kept, R38)."""
    package = Path(home.path) / batch["package_path"]
    if not package.is_dir():
        raise NotFound(
            "The package of batch {b} is not in the outbox ({p}).",
            "发件箱中没有批次 {b} 的移交包（{p}）。",
            b=batch["batch_id"],
            p=str(package),
        )
    target = package.with_name(f"{package.name}.zip")  # beside the package: ``outbox prune`` removes both
    if not target.is_file():
        temp = target.with_name(f".{target.name}.part")
        zip_package.write_zip(package, temp)
        os.replace(temp, target)
    return target


def _transport_errors():
    import httpx

    return (httpx.TransportError,)


def _certificate_problem(exc: BaseException) -> str:
    """The TLS verification error inside a connection error, if that is what it is."""
    import ssl

    seen = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return getattr(seen, "verify_message", "") or str(seen)
        seen = seen.__cause__ or seen.__context__
    return ""


def untrusted(url: str, problem: str) -> Refused:
    return Refused(
        "The archive at {u} showed a certificate this station does not trust ({p}). Nothing was sent. If the "
        "agency uses its own CA, give its certificate with --ca-file FILE.",
        "{u} 的档案室证书不受本站信任（{p}）。未发送任何内容。如机构使用自建 CA，请用 --ca-file 文件 指定其证书。",
        u=url,
        p=problem,
    )


def upload_file(
    client: Client,
    path: Path,
    upload_id: str,
    batch_id: str,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    window: int = WINDOW,
    attempts: int = 8,
    first_wait: float = 1.0,
    check_wait: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
    on_retry: Callable[[int, str, float], None] | None = None,
) -> tuple[dict, int]:
    """Upload one file (SM3 ``upload_id``) in chunks, resuming where the archive stands after any
    failure; wait while the archive checks it. Returns the archive's answer and the failures met.

    Up to ``window`` chunks are on their way at once, each on its own keep-alive connection, each
    read and SM3-hashed in its own thread: the archive receives and hashes one chunk while it syncs
    the one before, and the hashing on both sides runs on every core. The archive still stores them
    strictly in order (a chunk waits there until the one before it is stored)."""
    from concurrent.futures import ThreadPoolExecutor

    from scanstation.transfer.uploads import chain_step

    size = Path(path).stat().st_size
    window = max(1, min(int(window), 4))
    failures, wait, last_error, resyncs = 0, first_wait, "", 0
    info = None
    chain, chained_to = "", 0  # the chain of chunk digests up to byte chained_to
    digests: dict[int, str] = {}  # SM3 of the chunk at each offset, as sent

    def read_chunk(offset: int) -> tuple[bytes, str]:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(min(chunk_size, size - offset))
        return data, hashlib.new("sm3", data).hexdigest()

    def chain_until(offset: int) -> None:
        """Extend (or, after a resume from an earlier offset, rebuild) the chain up to ``offset``."""
        nonlocal chain, chained_to
        if offset < chained_to:
            chain, chained_to = "", 0
        while chained_to < offset:
            length = min(chunk_size, offset - chained_to)
            digest = digests.get(chained_to) if length == min(chunk_size, size - chained_to) else None
            if digest is None:
                with open(path, "rb") as fh:
                    fh.seek(chained_to)
                    digest = hashlib.new("sm3", fh.read(length)).hexdigest()
            chain = chain_step(chain, chained_to, digest)
            chained_to += length

    def put(offset: int) -> dict:
        data, digest = read_chunk(offset)
        digests[offset] = digest
        return client.call(
            "PUT",
            f"/uploads/{upload_id}/chunks/{offset}",
            content=data,
            headers={"X-Chunk-SM3": digest, "Content-Type": "application/octet-stream"},
        )

    senders = ThreadPoolExecutor(max_workers=window, thread_name_prefix="upload-chunk")
    try:
        while True:
            in_flight: list = []
            try:
                if info is None:
                    info = client.call(
                        "POST", "/uploads", json={"upload_id": upload_id, "size": size, "batch_id": batch_id}
                    )
                if info["state"] != "receiving":
                    break
                offset = info["received"]
                if offset != chained_to:
                    chain_until(offset)
                if offset >= size:
                    info = client.call("POST", f"/uploads/{upload_id}/complete", json={"chain": chain})
                    continue
                following = offset
                while following < size or in_flight:
                    while following < size and len(in_flight) < window:
                        in_flight.append((following, senders.submit(put, following)))
                        following += min(chunk_size, size - following)
                    start, future = in_flight.pop(0)
                    try:
                        info = future.result()
                    except Refused:
                        if start == offset or resyncs >= attempts:
                            raise
                        # a chunk sent with the one before it arrived first and was turned away:
                        # ask the archive where it stands and go on from there
                        resyncs += 1
                        info = None
                        break
                    end = start + min(chunk_size, size - start)
                    if info["received"] >= end and chained_to == start:
                        chain, chained_to = chain_step(chain, start, digests[start]), end
                    failures, wait, resyncs = 0, first_wait, 0
                    if progress:
                        progress(info["received"], size)
                    if info["state"] != "receiving":
                        break
            except _transport_errors() as exc:
                problem = _certificate_problem(exc)
                if problem:
                    raise untrusted(client.base, problem) from exc
                failures += 1
                last_error = str(exc) or type(exc).__name__
                if failures >= attempts:
                    raise StorageError(
                        "Batch {b} could not be delivered to {u} ({error}) after {n} attempts in a row. The archive keeps "
                        "what it received; run the same command again to resume.",
                        "批次 {b} 连续 {n} 次未能送达 {u}（{error}）。档案室保留已收到的部分；再次执行同一命令即可续传。",
                        b=batch_id,
                        u=client.base,
                        error=last_error,
                        n=failures,
                    ) from exc
                if on_retry:
                    on_retry(failures, last_error, wait)
                sleep(wait)
                wait = min(wait * 2, 30.0)
                info = None  # ask the archive where it stands
            finally:
                for _, future in in_flight:  # the chunks behind a failed one end (refused) before going on
                    with contextlib.suppress(Exception):
                        future.result()
    finally:
        senders.shutdown(wait=True)
    deadline = time.monotonic() + check_wait
    while info["state"] == "checking" and time.monotonic() < deadline:
        sleep(0.5)
        try:
            info = client.call("GET", f"/uploads/{upload_id}")
        except _transport_errors():
            continue
    return info, failures


def send(
    session,
    ref,
    url: str,
    *,
    user: str,
    password: str,
    ca_file: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    attempts: int = 8,
    first_wait: float = 1.0,
    check_wait: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
    on_retry: Callable[[int, str, float], None] | None = None,
) -> dict:
    """Upload sealed batch ``ref`` to the archive at ``url``; returns the archive's answer."""
    session.require("batch.manage")
    require_schema(session.catalog)
    batch = batches.get(session.catalog, ref)
    if batch["state"] not in ("sealed", "sent"):
        raise Refused(
            "Batch {b} is {s}; only a sealed batch is sent. Seal it first: scanstation batch seal {b} --key NAME",
            "批次 {b} 当前为“{s_zh}”；只有已封装的批次才能发送。请先封装：scanstation batch seal {b} --key 密钥名",
            b=batch["batch_id"],
            s=batch["state"],
            s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]),
        )
    if not 1 << 16 <= chunk_size <= 16 << 20:
        raise InvalidInput("The chunk size must be 64 KiB to 16 MiB.", "数据块大小须在 64 KiB 到 16 MiB 之间。")
    started = now_iso()
    zip_path = package_zip(session.home, batch)
    size = zip_path.stat().st_size
    upload_id = batch["tagmanifest_sm3"]
    client = Client(url, user, password, ca_file=ca_file)
    try:
        info, failures = upload_file(
            client,
            zip_path,
            upload_id,
            batch["batch_id"],
            chunk_size=chunk_size,
            attempts=attempts,
            first_wait=first_wait,
            check_wait=check_wait,
            sleep=sleep,
            progress=progress,
            on_retry=on_retry,
        )
    finally:
        client.close()
    destination = f"{client.base}{API}/uploads/{upload_id}"
    result = {
        "batch_id": batch["batch_id"],
        "upload_id": upload_id,
        "bytes": size,
        "archive_state": info["state"],
        "checks_passed": info.get("checks_passed"),
        "receipt_id": info.get("receipt_id", ""),
        "path": destination,
    }
    if batch["state"] == "sealed":
        from scanstation.transfer import outbox

        sent = outbox.mark_sent(session, batch, client.base, "https", destination, size, failures + 1, started)
        result["state"] = sent["state"]
    else:
        result["state"] = batch["state"]
    return result


def fetch_receipt(
    session, ref, url: str | None = None, *, user: str, password: str, ca_file: str | None = None
) -> dict:
    """Bring back the archive's signed receipt of a batch sent over HTTPS and import it."""
    from scanstation.transfer import receipts

    session.require("batch.manage")
    batch = batches.get(session.catalog, ref)
    sent = (batch["details"] or {}).get("sent") or {}
    if sent.get("kind") != "https":
        raise Refused(
            "Batch {b} was not sent over the network; import its receipt file with: scanstation receipt import FILE",
            "批次 {b} 不是经网络发送的；请用 scanstation receipt import 文件 导入回执。",
            b=batch["batch_id"],
        )
    upload_id = str(sent.get("path", "")).rsplit("/", 1)[-1]
    client = Client(url or sent.get("to", ""), user, password, ca_file=ca_file)
    try:
        envelope = client.call("GET", f"/uploads/{upload_id}/receipt")
    except _transport_errors() as exc:
        problem = _certificate_problem(exc)
        if problem:
            raise untrusted(client.base, problem) from exc
        raise StorageError(
            "The archive at {u} cannot be reached ({e}); try again later.",
            "无法连接 {u} 的档案室（{e}）；请稍后重试。",
            u=client.base,
            e=str(exc) or type(exc).__name__,
        ) from exc
    finally:
        client.close()
    folder = session.home.dir("outbox") / "receipts"
    name = receipts.file_base(envelope.get("receipt", {})) if isinstance(envelope, dict) else "receipt"
    path = folder / f"{name}.json"
    from scanstation.storage.files import write_atomic

    write_atomic(path, (json.dumps(envelope, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    try:
        return receipts.import_receipt(session, path)
    except Refused as exc:
        if "already imported" in exc.en:
            return {
                "batch_id": batch["batch_id"],
                "state": batch["state"],
                "already_imported": True,
                "receipt_id": envelope.get("receipt", {}).get("receipt_id"),
                "kept": str(path),
            }
        raise


__all__ = ["Client", "base_url", "fetch_receipt", "package_zip", "send", "upload_file"]
