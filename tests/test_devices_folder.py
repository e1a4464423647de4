"""Hot folder and file import with real image files (Pillow writes them, Pillow reads them back)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import CancelToken, ScanSettings
from scanstation.devices.factory import open_backend
from scanstation.devices.folder_backend import (
    FolderScanner,
    HotFolder,
    import_files,
    inspect_image_file,
    is_temporary_name,
    watch,
)
from scanstation.errors import InvalidInput

SETTLE = 0.3


def page_image(w=600, h=800, mode="L", shade=0):
    im = Image.new(mode, (w, h), 255 if mode != "RGB" else (255, 255, 255))
    # some content so files are not trivially small
    for y in range(50, h - 50, 40):
        im.paste(shade if mode != "RGB" else (shade, shade, shade), (40, y, w - 40, y + 8))
    return im


def encoded(fmt="PNG", dpi=300, **kw) -> bytes:
    buf = io.BytesIO()
    page_image(**kw).save(buf, format=fmt, dpi=(dpi, dpi))
    return buf.getvalue()


def settle_then_poll(hot: HotFolder):
    hot.poll()
    time.sleep(SETTLE + 0.05)
    return hot.poll()


def test_a_file_still_being_written_is_not_taken_until_it_is_stable(tmp_path):
    data = encoded("PNG", w=1200, h=1600)
    target = tmp_path / "scan-0001.png"
    hot = HotFolder(tmp_path, settle_s=SETTLE)
    chunks = [data[i : i + len(data) // 8 + 1] for i in range(0, len(data), len(data) // 8 + 1)]
    taken_while_writing = []

    def writer():
        with open(target, "ab") as f:
            for chunk in chunks:
                f.write(chunk)
                f.flush()
                time.sleep(0.12)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        taken_while_writing += hot.poll()
        time.sleep(0.05)
    thread.join()
    assert taken_while_writing == []
    # A pause in writing with the same size is not enough when the data is cut short.
    assert hot.poll() == []
    ready = settle_then_poll(hot)
    assert [f.path for f in ready] == [target]
    assert ready[0].frames == [{"width": 1200, "height": 1600, "dpi": 300, "mode": "gray"}]


def test_a_truncated_file_that_stops_changing_is_not_taken(tmp_path):
    data = encoded("JPEG", w=1200, h=1600)
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    hot = HotFolder(tmp_path, settle_s=SETTLE)
    assert settle_then_poll(hot) == []
    assert hot.refused == {}  # not refused either: the scanner may only be pausing


def test_part_and_other_temporary_names_are_ignored(tmp_path):
    data = encoded("PNG")
    for name in ("scan.png.part", "scan.tmp", "~scan.png", ".scan.png", "scan.png.crdownload"):
        (tmp_path / name).write_bytes(data)
        assert is_temporary_name(name)
    hot = HotFolder(tmp_path, settle_s=SETTLE)
    assert settle_then_poll(hot) == []
    (tmp_path / "scan.png.part").rename(tmp_path / "scan.png")  # the scanner's final rename
    assert [f.path.name for f in settle_then_poll(hot)] == ["scan.png"]


def test_multi_page_tiff_gives_one_page_per_frame_and_is_moved_after_delivery(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    frames = [page_image(shade=s) for s in (0, 60, 120)]
    frames[0].save(inbox / "batch.tif", save_all=True, append_images=frames[1:], dpi=(300, 300), compression="tiff_lzw")
    seen_at_delivery = []

    def on_page(page):
        seen_at_delivery.append((inbox / "batch.tif").exists())  # not moved before pages are delivered

    scanner = FolderScanner(settle_s=SETTLE)
    result = scanner.scan(
        f"folder:{inbox}", ScanSettings(spool_dir=str(tmp_path / "spool"), first_page_number=5), on_page
    )
    assert result.ended_by == "feeder_empty"
    assert [p.page_number for p in result.pages] == [5, 6, 7]
    assert [p.source_frame for p in result.pages] == [0, 1, 2]
    assert seen_at_delivery == [True, True, True]
    for page, original in zip(result.pages, frames):
        with Image.open(page.path) as im:
            assert im.info["dpi"] == (300, 300) and im.size == (600, 800)
            assert im.tobytes() == original.tobytes()  # lossless
    assert not (inbox / "batch.tif").exists() and (inbox / "taken" / "batch.tif").exists()


def test_r02_a_150_dpi_file_is_refused_naming_the_file_and_left_in_place(tmp_path):
    (tmp_path / "low-res.png").write_bytes(encoded("PNG", dpi=150))
    refused = []
    hot = HotFolder(tmp_path, settle_s=SETTLE, on_refused=lambda path, err: refused.append((path, err)))
    assert settle_then_poll(hot) == []
    assert hot.poll() == []  # reported once
    assert len(refused) == 1
    path, err = refused[0]
    assert path.name == "low-res.png"
    assert "low-res.png" in err.en and "150 dpi" in err.en and "low-res.png" in err.zh
    assert (tmp_path / "low-res.png").exists() and not (tmp_path / "taken").exists()


def test_pdf_and_missing_dpi_are_refused_with_a_clear_message(tmp_path):
    pdf = tmp_path / "scan.pdf"
    page_image().save(pdf, format="PDF", resolution=300)
    with pytest.raises(InvalidInput) as info:
        inspect_image_file(pdf)
    assert "PDF" in info.value.en and "scan.pdf" in info.value.zh
    nodpi = tmp_path / "nodpi.png"
    page_image().save(nodpi, format="PNG")
    with pytest.raises(InvalidInput) as info:
        inspect_image_file(nodpi)
    assert "dpi" in info.value.en
    assert inspect_image_file(nodpi, default_dpi=300).frames[0]["dpi"] == 300


def test_a_file_is_moved_only_after_acknowledgement_and_never_deleted(tmp_path):
    (tmp_path / "a.png").write_bytes(encoded("PNG"))
    hot = HotFolder(tmp_path, settle_s=SETTLE)
    [ready] = settle_then_poll(hot)
    assert (tmp_path / "a.png").exists()
    assert hot.poll() == []  # handed out once
    moved = hot.acknowledge(ready.path)
    assert moved == tmp_path / "taken" / "a.png" and moved.exists() and not (tmp_path / "a.png").exists()
    # The same name dropped again does not overwrite the taken copy.
    (tmp_path / "a.png").write_bytes(encoded("PNG", shade=99))
    [again] = settle_then_poll(hot)
    assert hot.acknowledge(again.path) == tmp_path / "taken" / "a-1.png"
    assert len(list((tmp_path / "taken").iterdir())) == 2


def test_watch_moves_a_file_after_on_file_returns_and_keeps_it_when_storing_fails(tmp_path):
    (tmp_path / "good.png").write_bytes(encoded("PNG"))
    (tmp_path / "bad.png").write_bytes(encoded("PNG", shade=50))
    token = CancelToken()
    calls = []

    def on_file(f):
        calls.append((f.path.name, f.path.exists()))
        if f.path.name == "bad.png":
            return False  # the caller could not store it: keep it
        if len(calls) >= 2:
            token.cancel()

    threading.Timer(5.0, token.cancel).start()  # safety net
    watch(tmp_path, on_file, token, settle_s=SETTLE, poll_s=0.1)
    assert sorted(calls) == [("bad.png", True), ("good.png", True)]
    assert (tmp_path / "taken" / "good.png").exists() and (tmp_path / "bad.png").exists()

    def failing(f):
        raise OSError("disk full")

    with pytest.raises(OSError):
        watch(tmp_path, failing, CancelToken(), settle_s=SETTLE, poll_s=0.1)
    assert (tmp_path / "bad.png").exists()


def test_empty_hot_folder_is_feeder_empty(tmp_path):
    assert isinstance(open_backend(f"folder:{tmp_path}"), FolderScanner)
    with pytest.raises(dev_errors.FeederEmpty):
        FolderScanner(settle_s=SETTLE).scan(
            f"folder:{tmp_path}", ScanSettings(spool_dir=str(tmp_path / "s")), lambda p: None
        )


def test_import_delivers_a_jpeg_untouched_and_leaves_files_in_place(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    jpeg = encoded("JPEG", mode="RGB", dpi=300)
    (src / "p2.jpg").write_bytes(jpeg)
    (src / "p10.jpg").write_bytes(encoded("JPEG", mode="RGB", dpi=400))
    (src / "p1.png").write_bytes(encoded("PNG", mode="L", dpi=300))
    (src / "p3.jpg.part").write_bytes(b"half")
    got = []
    result = import_files([src], got.append, spool_dir=str(tmp_path / "spool"))
    assert [Path(p.path).name for p in got] == ["p1.png", "p2.jpg", "p10.jpg"]  # natural name order
    assert [(p.dpi, p.mode, p.format) for p in got] == [
        (300, "gray", "png"),
        (300, "color", "jpeg"),
        (400, "color", "jpeg"),
    ]
    assert Path(got[1].path).read_bytes() == jpeg
    assert result.next_page_number == 4 and (src / "p2.jpg").exists()
