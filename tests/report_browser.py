"""Open an HTML file in Debian's headless Chromium and read back what its scripts left in the DOM.

`make test` installs the `chromium` package when it is missing (as root, as CI runs). Under
CI=true a missing browser fails the test that needs it; elsewhere it is skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

# As the machine's notes advise for headless runs as root on a closed network: no sandbox (root),
# no GPU, and none of the background connections Chromium would otherwise try at every start.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(
            "chromium is not installed: under CI=true the report's browser test must run "
            "(make test installs it)"
        )
    pytest.skip("chromium is not installed here (make test installs Debian's chromium when run as root)")


def _run_chromium(*arguments: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(  # noqa: S603 - Debian's chromium, fixed flags
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def rendered_dom(page: Path) -> str:
    """The DOM after the page's scripts ran (`--dump-dom`)."""
    return _run_chromium("--dump-dom", page.resolve().as_uri())


def screenshot(page: Path, png: Path, *, width: int = 1100, height: int = 4600) -> None:
    _run_chromium(f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page.resolve().as_uri())


class RenderedCharts(HTMLParser):
    """The attributes the report's check script set: on <body> and on each <figure class=chart>."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.charts: dict[str, dict[str, str]] = {}
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "body":
            self.body = attributes
        elif tag == "figure" and "chart" in attributes.get("class", "").split():
            self.charts[attributes.get("data-chart", "")] = attributes
