"""The web UI in a real browser: Playwright driving Debian's Chromium against a live server.

The browser comes from the system (``apt-get install chromium``), not from
``playwright install``, which needs the network. Screenshots go to a temporary
directory, or to ``$DXRX_UI_SCREENSHOTS`` when set (to look at them).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HL = re.compile(r"(^|\s)hl(\s|$)")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser test needs Debian's Chromium at /usr/bin/chromium "
    "(apt-get install chromium); playwright's own browser download needs the network",
)

sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on a free port, with its own empty data directory."""
    from dxrx.web.app import create_app

    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DXRX_DATA_DIR", str(data))
        mp.delenv("DXRX_DATABASE_URL", raising=False)
        mp.delenv("DXRX_API_TOKEN", raising=False)
        app = create_app()
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        srv = uvicorn.Server(config)
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not srv.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            srv.should_exit = True
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    target = os.environ.get("DXRX_UI_SCREENSHOTS")
    path = Path(target) if target else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _watch_errors(page: sync_api.Page) -> list[str]:
    """Console errors and uncaught exceptions (a CSP violation shows up here)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _no_sideways_scroll(page: sync_api.Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page scrolls sideways: {width}px in a {viewport}px window"


def test_worked_example_end_to_end(server: str, browser: sync_api.Browser, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = _watch_errors(page)

    page.goto(server + "/")
    box = page.locator("#case-text")
    assert box.input_value().strip() == ""
    page.get_by_role("button", name="Load the worked example").click()
    assert box.input_value().startswith("History: Woman aged 47")
    assert "Imaging: MRI" in box.input_value()
    assert page.url == server + "/", "the example loads in place, without a round trip"
    page.screenshot(path=str(shots / "case-entry.png"))

    page.get_by_role("button", name="Analyse").click()
    page.wait_for_url(server + "/analyses/*")
    first = page.locator("#differential ol.ddx > li").first
    sync_api.expect(first.locator("summary strong")).to_contain_text(
        "Superior gluteal nerve entrapment"
    )
    sync_api.expect(page.locator("figure.anatomy svg")).to_be_visible()
    sync_api.expect(page.locator("header.site nav")).to_contain_text("Knowledge base")
    page.screenshot(path=str(shots / "report-top.png"))

    # A source link in the leading diagnosis's evidence: passage and muscles light up.
    link = first.locator(".evidence a.src").first
    anchor = (link.get_attribute("href") or "")[1:]
    assert anchor.startswith("src-")
    link.click()
    passage = page.locator(f"mark#{anchor}")
    sync_api.expect(passage).to_have_class(HL)
    assert passage.evaluate("el => el.matches(':target')")
    sync_api.expect(passage).to_be_in_viewport()
    lit = page.locator("svg g.hl")
    assert lit.count() >= 1
    lit_ids = set(lit.evaluate_all("els => els.map(e => e.dataset.id)"))
    assert lit_ids & {"gluteus-medius", "gluteus-minimus", "tensor-fasciae-latae"}, lit_ids
    page.screenshot(path=str(shots / "evidence-highlighted.png"))
    page.locator("figure.anatomy").screenshot(path=str(shots / "evidence-figure.png"))

    # An evidence line with no passage (the localisation) lights the nodes it names.
    loc_item = first.locator(".evidence li", has_text="Localisation:").first
    if loc_item.count():
        loc_item.click()
        sync_api.expect(page.locator('svg g[data-id="superior-gluteal-nerve"]')).to_have_class(HL)
        assert page.locator("mark.hl").count() == 0

    # Clicking the evidence line itself (not its link) goes to the passage too.
    item = first.locator(".evidence li", has=page.locator("a.src")).nth(1)
    target = (item.locator("a.src").get_attribute("href") or "")[1:]
    item.locator(".w").click()
    sync_api.expect(page.locator(f"mark#{target}")).to_have_class(HL)
    sync_api.expect(item).to_have_class(re.compile(r"\bhl-item\b"))

    with page.expect_download() as info:
        page.locator('a[data-format="pdf"]').click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    page.get_by_role("link", name="History").click()
    page.wait_for_url(server + "/analyses")
    sync_api.expect(page.locator("table.history")).to_contain_text(
        "Superior gluteal nerve entrapment"
    )
    page.locator("#q").fill("gluteus medius")
    page.get_by_role("button", name="Search").click()
    sync_api.expect(page.locator("table.history tbody tr")).to_have_count(1)
    page.screenshot(path=str(shots / "history.png"))

    page.get_by_role("link", name="Knowledge base").click()
    total = page.locator("#condition-list li").count()
    page.locator("#kb-filter").press_sequentially("gluteal")
    visible = page.locator("#condition-list li:visible")
    assert 0 < visible.count() < total
    sync_api.expect(page.locator("#kb-count")).to_contain_text(f"of {total} shown")
    page.screenshot(path=str(shots / "kb-filter.png"))
    visible.filter(has_text="Superior gluteal").first.locator("a").click()
    sync_api.expect(page.locator("h1")).to_contain_text("Superior gluteal nerve")
    page.screenshot(path=str(shots / "condition.png"), full_page=True)

    assert errors == [], errors
    context.close()


def test_phone_layout(server: str, browser: sync_api.Browser, shots: Path) -> None:
    """390 px wide (a phone): nothing scrolls sideways but the wide tables and the figure."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    errors = _watch_errors(page)
    page.goto(server + "/?example=seed")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "phone-case-entry.png"))
    page.get_by_role("button", name="Analyse").click()
    page.wait_for_url(server + "/analyses/*")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "phone-report-top.png"))
    page.locator("#differential ol.ddx > li").first.locator(".evidence a.src").first.click()
    sync_api.expect(page.locator("mark.hl")).to_be_in_viewport()
    page.screenshot(path=str(shots / "phone-evidence.png"))
    # The localisation evidence names the nerve: the figure scrolls sideways to show it.
    page.locator("#differential .evidence li", has_text="Localisation:").first.click()
    nerve = page.locator('svg g[data-id="superior-gluteal-nerve"]')
    sync_api.expect(nerve).to_have_class(HL)
    sync_api.expect(nerve).to_be_in_viewport()
    page.screenshot(path=str(shots / "phone-figure.png"))
    page.goto(server + "/analyses")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "phone-history.png"))
    page.goto(server + "/conditions/superior-gluteal-nerve-entrapment")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "phone-condition.png"))
    assert errors == [], errors
    context.close()
