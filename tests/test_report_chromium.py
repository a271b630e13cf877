"""The analyse report in a real browser: it renders offline, its script runs, its numbers equal inventory.json."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from migrator.mapping import run_map
from migrator.stages.analyse import run_analyse
from tests.slackkit import SAMPLE, sample_directory_lookup

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium binary found (Debian package `chromium`; `make test` installs it when apt-get can run as root)"
    )


def headless(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def number(text: str) -> int:
    return int(text.strip().replace(",", ""))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], BeautifulSoup, Path]:
    binary = chromium()
    out = tmp_path_factory.mktemp("report")
    run_map(SAMPLE, out / "mappings", sample_directory_lookup(), fallback="migration@contoso.example")
    run_analyse(SAMPLE, out, out / "mappings" / "migration.yaml")
    dom = headless(binary, out / "profile", "--dump-dom", (out / "report.html").as_uri()).stdout
    headless(
        binary,
        out / "profile-shot",
        "--window-size=1280,3000",
        f"--screenshot={out / 'report.png'}",
        (out / "report.html").as_uri(),
    )
    return json.loads((out / "inventory.json").read_text(encoding="utf-8")), BeautifulSoup(dom, "html.parser"), out


def test_the_report_renders_and_its_script_runs(rendered: tuple[dict[str, Any], BeautifulSoup, Path]) -> None:
    _, dom, out = rendered
    assert dom.html is not None and dom.html.get("data-sorting") == "ready"
    assert dom.find("h1").get_text().startswith("Migration dry run: Northwind Labs")
    assert len(dom.find_all("svg")) == 2
    assert (out / "report.png").stat().st_size > 20_000  # a real page, not a blank one


def test_every_number_shown_equals_the_inventory(rendered: tuple[dict[str, Any], BeautifulSoup, Path]) -> None:
    inventory, dom, _ = rendered
    shown = dom.select("[data-inventory]")
    assert len(shown) >= 25
    for element in shown:
        assert number(element.get_text()) == lookup(inventory, element["data-inventory"]), element["data-inventory"]
    lengths = dom.select("[data-inventory-length]")
    assert [e["data-inventory-length"] for e in lengths] == ["user_lists.not_in_directory"]
    for element in lengths:
        assert number(element.get_text()) == len(lookup(inventory, element["data-inventory-length"]))


def test_the_conversation_table_equals_the_inventory(rendered: tuple[dict[str, Any], BeautifulSoup, Path]) -> None:
    inventory, dom, _ = rendered
    table = dom.find("table", id="conversations")
    headers = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
    rows = [
        dict(zip(headers, (td.get_text(strip=True) for td in tr.find_all("td")), strict=True))
        for tr in table.find("tbody").find_all("tr")
    ]
    assert len(rows) == len(inventory["channels"])
    by_id = {row["id"]: row for row in rows}
    for channel in inventory["channels"]:
        row = by_id[channel["id"]]
        assert row["kind"] == channel["kind"] and row["destination"] == channel["destination"]
        for key in ("messages", "threads", "replies", "files"):
            assert number(row[key]) == channel[key], (channel["id"], key)
        assert row["first"] == channel["first"][:10] and row["last"] == channel["last"][:10]


def test_conversion_counts_equal_the_inventory(rendered: tuple[dict[str, Any], BeautifulSoup, Path]) -> None:
    inventory, dom, _ = rendered
    table = dom.find("table", id="conversions")
    for tr in table.find("tbody").find_all("tr"):
        key, _, count, _ = (td.get_text(strip=True) for td in tr.find_all("td"))
        assert number(count) == inventory["conversions"][key]
