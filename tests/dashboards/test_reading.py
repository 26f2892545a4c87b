"""Every page of every role, read as its person reads it: on the demo with its faults played,
in Chinese and in English, on a desktop (1366 px) and a phone (390 px).

A page fails on a raw code (`snake_case`, `True`/`False`/`None`), a machine time (ISO with
its `T`, a time with its offset, minutes:seconds past an hour) or words of the other
language in what the hub wrote; the failure lists the findings page by page. The rules and
the list of pages are in `tests/dashboards/reading.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridges.broker import EmbeddedBroker
from hub.db import make_engine
from tests.dashboards import reading
from tests.dashboards.demo_hub import DemoHub, demo_hub
from tests.dashboards.test_browser import ARGS, CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")

WIDTHS = {1366: 900, 390: 844}
SHOTS = {"engineer": "/engineer", "front_desk": "/desk", "manager": "/manager"}
"""The page of each role kept as a screenshot, per language and width."""


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Chromium, once for the module."""
    if not os.access(CHROMIUM, os.X_OK):
        from tests.services import unavailable

        unavailable("chromium", CHROMIUM)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo(
    amqtt_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoHub]:
    """The demo with its faults played, on SQLite."""
    root = tmp_path_factory.mktemp("reading")
    engine = make_engine(f"sqlite:///{(root / 'hub.db').as_posix()}")
    with demo_hub(engine, amqtt_broker, root) as hub:
        yield hub
    engine.dispose()


def _open(page: object, url: str) -> None:
    page.goto(url, wait_until="load")  # type: ignore[attr-defined]
    page.wait_for_timeout(150)  # type: ignore[attr-defined]


def _sign_in(page: object, demo: DemoHub, role: str) -> None:
    _open(page, demo.base + "/")
    page.fill("input[name=token]", demo.tokens[role])  # type: ignore[attr-defined]
    page.click("form[action='/sign-in'] button")  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]


def _read_role(
    chromium: object, demo: DemoHub, role: str, lang: str, width: int, shots: Path
) -> dict[str, list[reading.Finding]]:
    context = chromium.new_context(  # type: ignore[attr-defined]
        locale="zh-CN" if lang == "zh" else "en-US",
        viewport={"width": width, "height": WIDTHS[width]},
        is_mobile=width < 500,
    )
    context.add_cookies([{"name": "fh_lang", "value": lang, "url": demo.base}])
    page = context.new_page()
    found: dict[str, list[reading.Finding]] = {}
    try:
        if role != "anonymous":
            _sign_in(page, demo, role)
        for path in reading.PAGES[role]:
            url = demo.base + reading.DemoIds(demo.ids).fill(path)
            _open(page, url)
            found[f"{role} {lang} {width}px {path}"] = reading.read(page, lang)
            if SHOTS.get(role) == path:
                page.screenshot(path=str(shots / f"{role}-{lang}-{width}.png"), full_page=True)  # type: ignore[attr-defined]
        if role == "front_desk":
            found[f"{role} {lang} {width}px /desk (registered)"] = _register(page, demo, lang)
    finally:
        context.close()
    return found


def _register(page: object, demo: DemoHub, lang: str) -> list[reading.Finding]:
    """The desk registers an owner's call: what the hub made of it, read."""
    _open(page, demo.base + "/desk")
    page.fill("#content", "1号楼18层管井漏水,楼道里都是水")  # type: ignore[attr-defined]
    page.fill("#location", "1/18")  # type: ignore[attr-defined]
    page.click("#intake button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#intake-result .result", timeout=15000)  # type: ignore[attr-defined]
    return reading.read(page, lang)


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_every_role_reads_in_its_language(
    chromium: object, demo: DemoHub, lang: str, width: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.getbasetemp() / "reading-shots"
    shots.mkdir(exist_ok=True)
    by_page: dict[str, list[reading.Finding]] = {}
    for role in reading.PAGES:
        by_page |= _read_role(chromium, demo, role, lang, width, shots)
    (shots / f"findings-{lang}-{width}.txt").write_text(reading.report(by_page), encoding="utf-8")
    print("screenshots in", shots)
    assert not any(by_page.values()), "\n" + reading.report(by_page)


def test_the_rules_catch_what_the_issue_saw() -> None:
    seen = [
        "callback_rule_met True",
        "474:08 剩余",
        "传感器2026-12-08T05:35:41+08:00已报警",
        "12-08 14:05 +08",
        "order on_hold",
    ]
    rules = {(f.rule, f.words) for f in reading.findings(seen, "en")}
    assert {
        ("code", "callback_rule_met"),
        ("code", "True"),
        ("clock", "474:08"),
        ("iso-time", "2026-12-08T05:35"),
        ("iso-time", "14:05 +08"),
        ("code", "on_hold"),
        ("language", "剩余"),
    } <= rules
    zh = {
        f.words for f in reading.findings(["同一出入口 garage/entrance same entrance", "2 h"], "zh")
    }
    assert {"same", "entrance"} <= zh
    assert reading.findings(["今天 14:05", "2天3小时", "12月8日 14:05", "CSV · XLSX"], "zh") == []
    assert reading.findings(["today 14:05", "2 d 3 h", "47 min"], "en") == []


def test_names_titles_and_countdowns_in_the_pages_language(chromium: object, demo: DemoHub) -> None:
    seen = {}
    for lang in ("zh", "en"):
        context = chromium.new_context()  # type: ignore[attr-defined]
        context.add_cookies([{"name": "fh_lang", "value": lang, "url": demo.base}])
        page = context.new_page()
        _sign_in(page, demo, "engineer")
        _open(page, demo.base + "/engineer")
        seen[lang] = page.inner_text("main")
        context.close()
    assert "1号楼18层管井漏水" in seen["zh"]  # the leak sensor's tile and its alarm, by name
    assert "漏水 — 1号楼18层管井" in seen["zh"]  # the order's title: what and where
    assert "挂起中，计时暂停" in seen["zh"]  # the gate's order on hold: its countdown stops
    assert "Pipe-well leak B1 F18" in seen["en"]
    assert "Water leak — the pipe well, floor 18 of building 1" in seen["en"]
    assert "paused while on hold" in seen["en"]
    assert "today" in seen["en"]
