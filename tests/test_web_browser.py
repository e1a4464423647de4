"""The browser pages in a real browser: Debian's chromium driven by selenium through the system
chromedriver (nothing is downloaded), headless, against the real service process. A clerk logs in,
searches, opens a dossier and asks for a loan; an archivist approves it and works the intake queue;
the clerk then sees the watermarked pages. With SCANSTATION_WEB_SCREENSHOTS=1 the pages are saved
into docs/screenshots/web-*.png."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

from scanstation.transfer import https_delivery
from tests.web_fixtures import ARCHIVE_NUMBERS, PASSPHRASE, PASSWORD, Server, archive_world

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian chromium and chromium-driver are not installed (setup.sh installs them)",
)


@pytest.fixture
def browser(tmp_path):
    os.environ["SE_MANAGER_DISABLED"] = "1"  # never let selenium fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1280,900",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> None:
    if os.environ.get("SCANSTATION_WEB_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / f"web-{name}.png"))


def click_to_load(driver, element, timeout: float = 60) -> None:
    """Click something that loads a new page (the pages have no script: every link and button does)
    and wait until the new page has replaced the old one, so that nothing is read from the page being
    left. The old page is marked; the wait ends when the document in the window has no mark and is
    complete. Errors while the browser swaps documents (a stale element, "node does not belong to
    the document") only mean "not yet"."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("document.documentElement.setAttribute('data-leaving', '1')")
    element.click()
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !document.documentElement.hasAttribute('data-leaving')"
        )
    )


def login(driver, url: str, user: str) -> None:
    driver.delete_all_cookies()
    driver.get(url + "/login")
    driver.find_element("id", "user").send_keys(user)
    driver.find_element("id", "password").send_keys(PASSWORD)
    click_to_load(driver, driver.find_element("id", "login"))
    assert driver.find_element("id", "who").text == user


def logout(driver) -> None:
    click_to_load(driver, driver.find_element("id", "logout"))
    assert "/login" in driver.current_url


def test_search_borrow_approve_view_and_intake_in_chromium(tmp_path, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    world = archive_world(tmp_path)
    server = Server(world["archive_path"]).start()
    try:
        https_delivery.send(
            world["station"].s["clerk1"],
            world["sealed"]["batch_id"],
            server.url,
            user="station01",
            password=PASSWORD,
            chunk_size=64 * 1024,
        )
        url = server.url
        d = browser
        # a clerk of another department: log in, search a two-character word, open the dossier
        login(d, url, "clerk9")
        box = d.find_element("id", "q")
        box.send_keys("缴费")
        click_to_load(d, d.find_element("id", "do-search"))
        assert "共" in d.find_element("id", "count").text
        marks = d.find_elements("css selector", "#results mark")
        assert marks and all(m.text == "缴费" for m in marks)
        assert "31010419761017344X" not in d.page_source  # R40: masked in the snippets
        shot(d, "search")
        link = [a for a in d.find_elements("css selector", "a.hit") if a.text == ARCHIVE_NUMBERS[1]][0]
        click_to_load(d, link)
        assert d.find_element("id", "number").text == ARCHIVE_NUMBERS[1]
        assert not d.find_elements("id", "thumbs")  # no pages before a loan
        d.find_element("id", "reason").send_keys("待遇审核核对材料")
        click_to_load(d, d.find_element("id", "request-loan"))
        assert d.find_element("id", "notice").is_displayed()
        logout(d)
        # the archivist approves the loan and works the intake queue
        login(d, url, "arch9")
        d.get(url + "/loans")
        row = [r for r in d.find_elements("css selector", "#loans tbody tr") if ARCHIVE_NUMBERS[1] in r.text][0]
        click_to_load(d, row.find_element("css selector", "button.approve"))
        row = [r for r in d.find_elements("css selector", "#loans tbody tr") if ARCHIVE_NUMBERS[1] in r.text][0]
        assert "借阅中" in row.find_element("css selector", ".state").text
        shot(d, "loans")
        click_to_load(d, d.find_element("id", "nav-intake"))
        click_to_load(d, d.find_element("css selector", "a.item"))
        assert d.find_element("id", "verdict").text == "通过"
        assert len(d.find_elements("css selector", "#report tbody tr")) > 10
        shot(d, "intake")
        d.find_element("id", "accept-passphrase").send_keys(PASSPHRASE)
        click_to_load(d, d.find_element("id", "accept"))
        assert d.find_element("id", "state").text == "已接收"
        assert d.find_element("id", "receipt-id").text.startswith("R-")
        logout(d)
        # the clerk now sees the watermarked pages during the loan
        login(d, url, "clerk9")
        d.get(url + "/search?q=" + ARCHIVE_NUMBERS[1])
        click_to_load(d, d.find_element("css selector", "a.hit"))
        assert d.find_element("id", "loan-valid").is_displayed()
        thumbs = d.find_elements("css selector", "#thumbs img")
        assert len(thumbs) == 2
        loaded = "return arguments[0].complete && arguments[0].naturalWidth"
        WebDriverWait(d, 20).until(lambda d: all(d.execute_script(loaded, t) for t in thumbs))
        shot(d, "dossier")
        click_to_load(d, d.find_elements("css selector", "#thumbs a")[0])
        image = d.find_element("id", "page-image")
        WebDriverWait(d, 20).until(lambda d: d.execute_script(loaded, image))
        shot(d, "page")
        click_to_load(d, d.find_element("id", "next"))
        assert "2 / 2" in d.find_element("id", "page-no").text
        # English on request
        click_to_load(d, d.find_element("id", "lang-en"))
        assert "page 2 of 2" in d.find_element("id", "page-no").text
    finally:
        server.stop()
        world["station"].close()
    conn = sqlite3.connect(f"file:{world['archive_path'] / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        views = conn.execute(
            "SELECT user, after FROM audit_log WHERE action = 'pages.view' AND user = 'clerk9'"
        ).fetchall()
        searches = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'search' AND user = 'clerk9'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert len(views) >= 4 and all('"watermark":"clerk9 ' in after and "借阅单" in after for _, after in views)
    assert searches == 2
