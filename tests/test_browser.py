"""The HTML trace viewer and the Mermaid diagrams in a real browser: headless Chromium driven by Playwright.

Chromium is Debian's (``apt-get install chromium``: ``/usr/bin/chromium``) and Playwright is the
PyPI package, pointed at it (never ``playwright install``, which downloads a browser build);
``.ci/run`` installs both.  Without them these tests skip, saying which is missing.  The Mermaid
test also needs Mermaid's own ``mermaid.min.js`` (``.ci/run`` unpacks it from the npm package
into ``out/vendor/``; ``ORDERCHECK_MERMAID_JS`` may point elsewhere), to parse and draw the
diagrams as code-hosting sites do.

Screenshots go to ``out/screenshots/`` (CI keeps them as artifacts).  The pages are opened from
``file://`` URLs with every other request refused and recorded: the viewer must not fetch
anything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import load_model_module
from test_inspection import HOSTILE, Hostile, SameRack

from ordercheck import check
from ordercheck.lang.model import spec_of
from ordercheck.report.html import render_html
from ordercheck.report.mermaid import render_mermaid
from ordercheck.sources import sources_in

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM = os.environ.get("ORDERCHECK_CHROMIUM", "/usr/bin/chromium")
MERMAID_JS = Path(os.environ.get("ORDERCHECK_MERMAID_JS", ROOT / "out" / "vendor" / "mermaid.min.js"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def missing(reason: str) -> None:
    """Skip, saying what is missing; in CI (``ORDERCHECK_REQUIRE_BROWSER=1``, set by ``.ci/run``) fail instead."""
    if os.environ.get("ORDERCHECK_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and ORDERCHECK_REQUIRE_BROWSER is set")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the PyPI package playwright is not installed (pip install playwright; .ci/run installs it)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page whose network requests (other than its own file), dialogs and script errors are recorded."""

    def __init__(self, browser: Any, allowed: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1360, "height": 960})
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def route(r: Any) -> None:
            if allowed and r.request.url.split("#")[0] == allowed:
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)


def _viewer(tmp_path: Path) -> Path:
    racks = load_model_module("racks")
    model = racks.AckOnPrimaryDisk()
    result = check(model, keep_going=True)
    cases = [(result.property("primary_has_acked").counterexample, spec_of(model))]
    same_rack = SameRack()
    cases.append((check(same_rack).counterexample, spec_of(same_rack)))
    hostile = Hostile()
    cases.append((check(hostile, keep_going=True).property("kept").counterexample, spec_of(hostile)))
    page = tmp_path / "viewer.html"
    page.write_text(render_html(cases, title="ordercheck counterexamples <i>test</i>"))
    return page


def test_stepping_through_a_trace_in_the_viewer(browser: Any, tmp_path: Path) -> None:
    path = _viewer(tmp_path)
    w = Watched(browser, allowed=path.as_uri())
    page = w.page
    page.goto(path.as_uri())
    title = page.locator("#step-title")
    # The page opens on the violating state; State 1 is the initial state and step k leads to State k+1.
    assert title.inner_text() == "State 7 of 7 \u00b7 step 6 of 6: promote(n='db2')"
    assert page.locator("h1").inner_text() == "ordercheck counterexamples <i>test</i>"
    page.keyboard.press("Home")
    assert title.inner_text() == "State 1 of 7: initial state"

    def status(node: str) -> str:
        index = ["db1", "db2", "db3"].index(node)
        return page.locator(f'.topology[data-case="0"] g.node[data-node="{index}"]').get_attribute("data-status")

    assert [status(n) for n in ("db1", "db2", "db3")] == ["up", "up", "up"]
    page.click("#next")
    assert title.inner_text() == "State 2 of 7 \u00b7 step 1 of 6: accept(o='o1')"
    db1_memory = page.locator('#copies-body tr[data-node="0"] td[data-var="received"]')
    assert db1_memory.inner_text() == "o1" and "changed" in (db1_memory.get_attribute("class") or "")
    page.screenshot(path=str(SCREENSHOTS / "viewer-1-accept.png"), full_page=True)

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert title.inner_text() == "State 5 of 7 \u00b7 step 4 of 6: ack(o='o1')"
    assert page.locator('#vars-body tr.changed').all_inner_texts() == ["acked\t{'o1'}"]
    page.keyboard.press("ArrowRight")
    assert title.inner_text() == "State 6 of 7 \u00b7 step 5 of 6: crash(n='db1')"
    assert status("db1") == "crashed" and status("db2") == "up"
    assert page.locator("#step-summary").inner_text() == "db1 crashed, losing o1 from db1's memory"
    assert page.locator('#copies-body tr[data-node="0"] td[data-var="received"]').inner_text() == ""
    assert page.locator('#copies-body tr[data-node="0"] td[data-var="synced"]').inner_text() == "o1"
    page.screenshot(path=str(SCREENSHOTS / "viewer-2-crash.png"), full_page=True)

    page.click("#next")
    assert title.inner_text() == "State 7 of 7 \u00b7 step 6 of 6: promote(n='db2')"
    assert page.locator("#step-summary").inner_text() == "failover: db2 became primary in place of db1"
    page.click("#next")  # past the end: stays on the last step
    assert title.inner_text() == "State 7 of 7 \u00b7 step 6 of 6: promote(n='db2')"
    assert page.locator("#failure").inner_text() == "db1: 1 failure (taken in the trace)"
    assert "The primary db2 is up and does not hold o1." in page.locator("#explain").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "viewer-3-failover.png"), full_page=True)

    page.keyboard.press("Home")
    assert title.inner_text() == "State 1 of 7: initial state"
    page.keyboard.press("End")
    assert title.inner_text() == "State 7 of 7 \u00b7 step 6 of 6: promote(n='db2')"
    page.click("#prev")
    assert title.inner_text() == "State 6 of 7 \u00b7 step 5 of 6: crash(n='db1')"
    page.locator("#steps li").nth(1).click()
    assert title.inner_text() == "State 2 of 7 \u00b7 step 1 of 6: accept(o='o1')"
    assert page.evaluate("window.location.hash") == "#step-1"  # the step's link, to share
    assert page.locator("#steps li a").nth(4).get_attribute("href") == "#step-4"

    # The rack failure: a whole rack goes down at once; the failure set is marked.
    page.select_option("#case-picker", "1")
    page.keyboard.press("End")
    assert title.inner_text() == "State 5 of 5 \u00b7 step 4 of 4: power_loss(rack='r1')"
    statuses = [page.locator(f'.topology[data-case="1"] g.node[data-node="{i}"]').get_attribute("data-status") for i in range(3)]
    assert statuses == ["crashed", "crashed", "up"]
    assert page.locator('.topology[data-case="1"] g.node.failing').count() == 2
    assert page.locator('.topology[data-case="0"]').is_hidden()
    page.screenshot(path=str(SCREENSHOTS / "viewer-4-rack-power-loss.png"), full_page=True)
    assert w.requests == [] and w.errors == [] and w.dialogs == []


def test_a_step_link_opens_the_viewer_on_that_step(browser: Any, tmp_path: Path) -> None:
    path = _viewer(tmp_path)
    w = Watched(browser, allowed=path.as_uri())
    w.page.goto(path.as_uri() + "#step-4")
    assert w.page.locator("#step-title").inner_text() == "State 5 of 7 \u00b7 step 4 of 6: ack(o='o1')"
    assert w.page.locator("#steps li.current a").inner_text() == "step 4: ack(o='o1')"
    assert w.errors == []


def test_names_from_the_model_show_as_text(browser: Any, tmp_path: Path) -> None:
    path = _viewer(tmp_path)
    w = Watched(browser, allowed=path.as_uri())
    page = w.page
    page.goto(path.as_uri())
    page.select_option("#case-picker", "2")
    page.keyboard.press("End")
    first_row = page.locator('#copies-body tr[data-node="0"] td').first
    assert first_row.inner_text().startswith(HOSTILE)
    node = page.locator('.topology[data-case="2"] g.node[data-node="0"]')
    assert node.locator("title").text_content() == HOSTILE
    assert (node.locator("text.name").text_content() or "").startswith("<script>alert(1)")  # clipped to fit its box
    assert page.locator('.topology[data-case="2"] g.node[data-node="0"]').get_attribute("data-status") == "lost"
    assert page.locator("script").count() == 2 and page.locator("b").count() == 0 and page.locator("header i").count() == 0
    assert HOSTILE in page.locator("#explain").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "viewer-5-names-as-text.png"), full_page=True)
    assert w.dialogs == [] and w.requests == [] and w.errors == []


def test_mermaid_diagrams_parse_and_draw(browser: Any) -> None:
    if not MERMAID_JS.exists():
        missing(f"Mermaid's mermaid.min.js is not at {MERMAID_JS} (.ci/run unpacks it there from the npm package mermaid)")
    racks = load_model_module("racks")
    diagrams = []
    for model in (racks.AckOnPrimaryDisk(), racks.AckOnOneReplicaDisk(), SameRack(), Hostile()):
        result = check(model, keep_going=True)
        diagrams += [render_mermaid(p.counterexample, spec_of(model)) for p in result.properties if p.counterexample is not None]
    design = sources_in(ROOT / "model" / "hospital-3-failover-without-synchronous-commit.toml")[0].cls()
    diagrams += [render_mermaid(p.counterexample, spec_of(design)) for p in check(design, keep_going=True).properties if p.counterexample]
    w = Watched(browser)
    page = w.page
    page.set_content("<!DOCTYPE html><html><body><div id='out'></div></body></html>")
    page.add_script_tag(content=MERMAID_JS.read_text(encoding="utf-8"))
    outcome = page.evaluate("""async (texts) => {
        mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
        const out = [];
        for (let i = 0; i < texts.length; i++) {
            try {
                await mermaid.parse(texts[i]);
                const r = await mermaid.render("d" + i, texts[i]);
                out.push(r.svg);
            } catch (e) { out.push("ERROR " + e.message); }
        }
        return out;
    }""", diagrams)
    for text, svg in zip(diagrams, outcome):
        assert not svg.startswith("ERROR"), f"{svg}\n\n{text}"
    hostile = next(svg for svg, text in zip(outcome, diagrams) if "#60;script" in text)
    page.evaluate("(svg) => { document.getElementById('out').innerHTML = svg; }", hostile)
    assert page.locator("#out svg script").count() == 0
    assert HOSTILE in (page.locator("#out svg").text_content() or "")
    page.screenshot(path=str(SCREENSHOTS / "mermaid-names-as-text.png"), full_page=True)
    page.evaluate("(svg) => { document.getElementById('out').innerHTML = svg; }", outcome[3])
    page.screenshot(path=str(SCREENSHOTS / "mermaid-failover.png"), full_page=True)
    assert w.dialogs == [] and w.requests == []
