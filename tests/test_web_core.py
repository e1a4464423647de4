"""The service functions under the network shell, called directly: the reading room (who sees pages,
watermark, loan expiry), search with filters, and the upload queue's rules."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from PIL import Image

from scanstation import search
from scanstation.custody import lending, reading_room
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import Home
from scanstation.transfer import uploads
from tests.test_transfer_fixtures import make_archive, make_station
from tests.web_fixtures import ARCHIVE_NUMBERS, ID_NUMBER, populate_archive


@pytest.fixture
def archive(tmp_path):
    station = make_archive(tmp_path / "archive")
    ids = populate_archive(station)
    yield station, ids
    station.close()


def test_pages_outside_a_loan_are_refused_and_inside_are_watermarked_with_user_and_time(archive):
    station, ids = archive
    clerk, arch = station.s["clerk9"], station.s["arch9"]
    dossier = ids[ARCHIVE_NUMBERS[0]]
    page = reading_room.dossier(arch, dossier)["pages"][0]["id"]
    with pytest.raises(Refused):
        reading_room.page_image(clerk, page)
    loan = lending.request(clerk, ARCHIVE_NUMBERS[0], "核对", 1)
    start = datetime.now().astimezone()
    lending.approve(arch, loan["id"], now=start)
    data = reading_room.page_image(clerk, page, now=start + timedelta(minutes=5))
    marked = Image.open(io.BytesIO(data)).convert("RGB")
    store_bytes = station.home.path / "images"
    original = next(p for p in store_bytes.rglob("*-0001.jpg") if ARCHIVE_NUMBERS[0] in p.name)
    plain = Image.open(original).convert("RGB").resize(marked.size)
    # the bottom banner: light band with dark red text that the original does not have
    band = [marked.getpixel((x, marked.height - 3)) for x in range(0, marked.width, 3)]
    assert sum(1 for r, g, b in band if r > 200 and g > 170 and b > 170) > len(band) * 0.5
    assert marked.tobytes() != plain.tobytes()
    row = station.home.catalog.one("SELECT user, after FROM audit_log WHERE action = 'pages.view' ORDER BY id DESC")
    assert row["user"] == "clerk9" and f"借阅单 {loan['id']}" in row["after"] and "clerk9" in row["after"]
    # after the loan period the same request is refused, and the loan is expired (R16-like period rule)
    with pytest.raises(Refused):
        reading_room.page_image(clerk, page, now=start + timedelta(days=2))
    assert lending.get_loan(station.home.catalog, loan["id"])["state"] == "expired"


def test_reading_room_looks_up_ids_only(archive):
    station, ids = archive
    arch = station.s["arch9"]
    for bad in ("../catalog.sqlite", "1 OR 1=1", "", None, 10**9):
        with pytest.raises(NotFound):
            reading_room.page_image(arch, bad)
        with pytest.raises(NotFound):
            reading_room.dossier(arch, bad)


def test_r40_dossier_record_masked_unless_allowed(archive):
    station, ids = archive
    dossier = ids[ARCHIVE_NUMBERS[0]]
    view = reading_room.dossier(station.s["qc9"], dossier)
    assert view["dossier"]["person_id_number"] != ID_NUMBER and view["dossier"]["person_id_number"].endswith("344X")
    assert reading_room.dossier(station.s["qc9"], dossier, unmasked=True)["dossier"]["person_id_number"] == ID_NUMBER
    with pytest.raises(Refused):
        reading_room.dossier(station.s["admin9"], dossier, unmasked=True)


def test_search_as_audits_every_search_with_masked_query(archive):
    station, ids = archive
    clerk = station.s["clerk9"]
    before = station.home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'search'")["n"]
    hits = search.search_as(clerk, ID_NUMBER, limit=5)
    assert hits and all(ID_NUMBER not in h.snippet for h in hits)
    row = station.home.catalog.one("SELECT object_id, after FROM audit_log WHERE action = 'search' ORDER BY id DESC")
    assert ID_NUMBER not in row["object_id"] and ID_NUMBER not in row["after"]
    assert station.home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'search'")["n"] == before + 1
    with pytest.raises(Refused):
        search.search_as(station.s["admin9"], "档案", unmasked=True)
    with pytest.raises(InvalidInput):
        search.search_as(clerk, "", filters={"year": "20x4"})
    only_filter = search.search_as(clerk, "", filters={"insurance_type": "失业保险"})
    assert [h.number for h in only_filter] == [ARCHIVE_NUMBERS[2]]


def test_uploads_refused_on_a_station_home_and_for_roles_without_the_right(tmp_path, archive):
    station, _ = archive
    digest = hashlib.new("sm3", b"x").hexdigest()
    with pytest.raises(Refused):
        uploads.begin(station.s["qc9"], digest, 10)
    other = make_station(tmp_path / "station")
    try:
        with pytest.raises(Refused) as refused:
            uploads.begin(other.s["clerk1"], digest, 10)
        assert "archive room" in refused.value.en
    finally:
        other.close()
    with pytest.raises(Refused):
        uploads.queue(station.s["clerk9"])
    with pytest.raises(NotFound):
        uploads.decide(station.s["arch9"], 12345, "accept")


def test_an_upload_resumes_after_a_half_written_chunk(archive):
    """The service stopped after writing part of a chunk but before counting it: the next chunk at the
    counted offset overwrites the torn bytes."""
    station, _ = archive
    s = station.s["station01"]
    data = bytes(range(256)) * 1000
    upload_id = hashlib.new("sm3", data).hexdigest()
    uploads.begin(s, upload_id, len(data))
    first = data[:100_000]
    uploads.put_chunk(s, upload_id, 0, first, hashlib.new("sm3", first).hexdigest())
    row = station.home.catalog.one("SELECT * FROM package_uploads WHERE upload_id = ?", (upload_id,))
    part = uploads.part_path(station.home, row)
    with open(part, "ab") as fh:
        fh.write(b"torn-write" * 500)  # bytes of a chunk whose count never reached the catalog
    rest = data[100_000:]
    info = uploads.put_chunk(s, upload_id, 100_000, rest, hashlib.new("sm3", rest).hexdigest())
    assert info["received"] == len(data) and part.read_bytes() == data
    chain = uploads.chain_step(
        uploads.chain_step("", 0, hashlib.new("sm3", first).hexdigest()), 100_000, hashlib.new("sm3", rest).hexdigest()
    )
    assert uploads.complete(s, upload_id, chain)["state"] == "checking"
    assert uploads.package_path(station.home, row).read_bytes() == data
    # another account may not write into this upload
    with pytest.raises(Refused):
        uploads.put_chunk(station.s["clerk9"], upload_id, 0, first, hashlib.new("sm3", first).hexdigest())
