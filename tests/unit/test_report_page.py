"""The operators' report page: self-contained, every chart titled and drawn (also when it has no
data), and drawn for real in headless Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.report_browser import RenderedCharts, rendered_dom
from tijori_local.operators.report import write_report
from tijori_local.operators.report_page import CHECK_SCRIPT
from tijori_local.operators.report_records import ItemRecord, Kind, QueueDepth, StackSnapshot, Step

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHARTS = {"finals-per-day", "time-to-final", "pending-ages", "checks-per-pending", "failures-by-code"}


def _item(kind: Kind, item_id: str, statuses: list[tuple[str, timedelta]], **fields: object) -> ItemRecord:
    history = tuple(Step(status, T0 + after, f"to {status}") for status, after in statuses)
    return ItemRecord(
        kind=kind,
        item_id=item_id,
        status=history[-1].to_status,
        amount=Decimal("25.00"),
        created_at=T0,
        history=history,
        **fields,  # type: ignore[arg-type]
    )


def busy_stack() -> StackSnapshot:
    minute, day = timedelta(minutes=1), timedelta(days=1)
    items = [
        _item(Kind.PAYOUT, "OK-1", [("ACCEPTED", 0 * day), ("SUCCESS", minute)]),
        _item(Kind.PAYOUT, "OK-2", [("ACCEPTED", 0 * day), ("PENDING", minute), ("SUCCESS", 2 * day)],
              pending_clock_start=T0),
        _item(Kind.PAYOUT, "NO-1", [("ACCEPTED", 0 * day), ("FAILED", minute)], paytm_code="STUC_1002"),
        _item(Kind.PAYOUT, "PEND-1", [("ACCEPTED", 0 * day), ("PENDING", minute)], pending_clock_start=T0),
        _item(Kind.PREPAID_LOAD, "LOAD-1", [("ACCEPTED", 0 * day), ("NEEDS_REVIEW", minute)],
              paytm_code="1501"),
        _item(Kind.PAYMENT, "PAY-1", [("ACCEPTED", 0 * day), ("PAID", 3 * minute)]),
    ]  # fmt: skip
    return StackSnapshot("test stack", T0 + 3 * day, tuple(items), QueueDepth("PayoutDLQ", visible=2))


def test_the_page_needs_nothing_from_the_network(tmp_path: Path) -> None:
    page = write_report([busy_stack()], tmp_path / "report.html", generated_at=T0).read_text()
    for fetching in ("<link", "<img", "@import", "<script src", "<iframe"):
        assert fetching not in page
    # The only references are to the SVGs' own definitions (glyphs, clip paths).
    assert {href[0] for href in re.findall(r'href="([^"]*)"', page)} == {"#"}
    assert {target[0] for target in re.findall(r"url\(([^)]*)\)", page)} == {"#"}


def test_every_chart_has_a_title_and_named_axes_and_the_tables_carry_meanings(tmp_path: Path) -> None:
    page = write_report([busy_stack()], tmp_path / "report.html", generated_at=T0).read_text()
    charts = dict(re.findall(r'<figure class="chart" data-chart="([^"]+)" data-state="([^"]+)">', page))
    assert charts == dict.fromkeys(CHARTS, "drawn")
    assert "Payee record not found, please verify emailId/ssoId." in page  # STUC_1002's meaning
    assert "SYSTEM_ERROR_DB" in page  # the prepaid load in review: 1501's meaning
    assert '<div class="tile dlq messages" data-dlq="test stack"><div class="value">2</div>' in page
    assert "PEND-1" in page


def test_a_report_without_data_says_so_in_each_chart(tmp_path: Path) -> None:
    empty = StackSnapshot("empty stack", T0, (), QueueDepth("PayoutDLQ"))
    page = write_report([empty], tmp_path / "report.html", generated_at=T0).read_text()
    charts = dict(re.findall(r'<figure class="chart" data-chart="([^"]+)" data-state="([^"]+)">', page))
    assert charts == dict.fromkeys(CHARTS, "no-data")
    assert "Nothing is waiting for a human." in page
    assert 'class="tile dlq empty"' in page


@pytest.mark.parametrize("stack", [busy_stack(), StackSnapshot("empty", T0, (), None)], ids=["data", "empty"])
def test_every_chart_draws_in_headless_chromium(tmp_path: Path, stack: StackSnapshot) -> None:
    page = write_report([stack], tmp_path / "report.html", generated_at=T0)
    rendered = RenderedCharts(rendered_dom(page))
    assert set(rendered.charts) == CHARTS
    assert rendered.body["data-charts-rendered"] == f"{len(CHARTS)}/{len(CHARTS)}"
    for name, chart in rendered.charts.items():
        assert int(chart["data-rendered-width"]) > 100, name
        assert int(chart["data-rendered-height"]) > 50, name
        assert int(chart["data-rendered-shapes"]) > 10, name


def test_the_render_check_counts_a_chart_that_drew_nothing(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    drawn = '<svg width="200" height="100"><rect x="0" y="0" width="50" height="40"/></svg>'
    page.write_text(
        "<!DOCTYPE html><html><body>"
        f'<figure class="chart" data-chart="drawn">{drawn}</figure>'
        '<figure class="chart" data-chart="blank"><svg width="200" height="100"></svg></figure>'
        f'<figure class="chart" data-chart="missing"></figure><script>{CHECK_SCRIPT}</script></body></html>'
    )
    rendered = RenderedCharts(rendered_dom(page))
    assert rendered.body["data-charts-rendered"] == "1/3"
    assert rendered.charts["drawn"]["data-rendered-shapes"] == "1"
    assert rendered.charts["blank"]["data-rendered-shapes"] == "0"
    assert rendered.charts["missing"]["data-rendered-width"] == "0"
