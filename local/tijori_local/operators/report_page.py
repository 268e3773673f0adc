"""The report as one self-contained HTML page: every chart an inline SVG drawn by matplotlib
(text drawn as paths, so no font and no script is fetched), the tables as HTML, and a small
script that checks, in the browser that opens it, that every chart drew (tests read its verdict
from `data-charts-rendered` on <body>).

Every chart has a title and named axes; a chart without data draws its frame and says so
("no data: ..."), it never fails.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tijori_local.operators.report_figures import (
    PENDING_AGE_BUCKETS,
    SEED_WINDOW,
    TIME_TO_FINAL_BUCKETS,
    ChecksPerPending,
    DailyFinals,
    FailureRow,
    PendingAges,
    TimeToFinal,
    checks_per_pending_item,
    failures_by_code,
    finals_per_day,
    needs_review,
    pending_payouts_by_age,
    time_to_final,
)
from tijori_local.operators.report_records import ItemRecord, Kind, StackSnapshot

# One colour per status wherever it appears: green for money that arrived, red for refused, ...
STATUS_COLOURS = {
    "SUCCESS": "#2e7d32",
    "PAID": "#2e7d32",
    "VALID": "#2e7d32",
    "FAILED": "#c62828",
    "INVALID": "#6a1b9a",
    "REVERSED": "#ef6c00",
    "EXPIRED": "#757575",
}
KIND_COLOURS = {
    Kind.PAYOUT: "#1565c0",
    Kind.PREPAID_LOAD: "#00838f",
    Kind.PAYMENT: "#6d4c41",
    Kind.REFUND: "#ad1457",
    Kind.VALIDATION: "#558b2f",
}
WIDTH_INCHES = 9.0
MAX_FAILURE_BARS = 15


@dataclass(frozen=True)
class ChartText:
    """What a chart says it shows: its id (the figure's `data-chart`), title, axes, and what its
    empty state says."""

    chart_id: str
    title: str
    xlabel: str
    ylabel: str
    when_empty: str


FINALS_PER_DAY = ChartText(
    "finals-per-day",
    "Items by final status per day (UTC)",
    "day the item reached its final status",
    "items",
    "no item has reached a final status",
)
TIME_TO_FINAL = ChartText(
    "time-to-final",
    "Time from intake to final status",
    "time to final status",
    "items",
    "no item has reached a final status",
)
PENDING_AGES = ChartText(
    "pending-ages",
    "Pending payouts by age, against Paytm's 5-day window",
    "age since the first send that may have reached Paytm",
    "payouts",
    "no payout is pending",
)
CHECKS_PER_PENDING = ChartText(
    "checks-per-pending",
    "Status checks per item that was pending",
    "status checks: recorded on the item + the scheduled check ages its pending spell passed",
    "items",
    "no item has been pending",
)
FAILURES_BY_CODE = ChartText(
    "failures-by-code", "Failures by Paytm's code", "items", "code (kind)", "no item failed"
)


@dataclass(frozen=True)
class Chart:
    """One drawn chart: its id (the figure's `data-chart`), the SVG, and whether it had data."""

    chart_id: str
    svg: str
    has_data: bool


def _svg_of(figure: Any, chart_id: str) -> str:
    import matplotlib

    # The salt makes each chart's SVG ids its own, so several inline SVGs never share an id.
    with matplotlib.rc_context({"svg.hashsalt": chart_id, "svg.fonttype": "path"}):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _new_figure(height: float, rows: int = 1) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
    axes = figure.subplots(rows, 1, squeeze=False)
    return figure, [row[0] for row in axes]


def _count_axis(axes: Any, axis: str = "y") -> None:
    """Counts of items: whole numbers on the axis, never 0.5 of a payout."""
    from matplotlib.ticker import MaxNLocator

    (axes.yaxis if axis == "y" else axes.xaxis).set_major_locator(MaxNLocator(integer=True))


def _label(axes: Any, text: ChartText, *, counts: str = "y", title: str | None = None) -> None:
    """The chart's title and named axes; the axes named in `counts` count items."""
    axes.set_title(title or text.title)
    axes.set_xlabel(text.xlabel)
    axes.set_ylabel(text.ylabel)
    for axis in counts:
        _count_axis(axes, axis)


def _drawn(figure: Any, text: ChartText) -> Chart:
    return Chart(text.chart_id, _svg_of(figure, text.chart_id), has_data=True)


def _no_data(text: ChartText) -> Chart:
    figure, (axes,) = _new_figure(2.6)
    _label(axes, text, counts="")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(
        0.5,
        0.5,
        f"No data: {text.when_empty}",
        ha="center",
        va="center",
        transform=axes.transAxes,
        fontsize=12,
    )
    return Chart(text.chart_id, _svg_of(figure, text.chart_id), has_data=False)


def finals_per_day_chart(figures: Sequence[DailyFinals]) -> Chart:
    if not figures:
        return _no_data(FINALS_PER_DAY)
    figure, axes_list = _new_figure(1.0 + 2.2 * len(figures), rows=len(figures))
    figure.suptitle(FINALS_PER_DAY.title)
    for axes, daily in zip(axes_list, figures, strict=True):
        labels = [day.strftime("%d %b") for day in daily.days]
        bottom = [0] * len(labels)
        for status, counts in daily.counts.items():
            axes.bar(labels, counts, bottom=bottom, label=status, color=STATUS_COLOURS.get(status))
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        axes.set_title(f"{daily.kind.value}: {daily.total}", fontsize=10, loc="left")
        axes.set_ylabel(FINALS_PER_DAY.ylabel)
        _count_axis(axes)
        axes.legend(loc="upper right", fontsize=8)
    axes_list[-1].set_xlabel(FINALS_PER_DAY.xlabel)
    return _drawn(figure, FINALS_PER_DAY)


def time_to_final_chart(figures: Sequence[TimeToFinal]) -> Chart:
    if not figures:
        return _no_data(TIME_TO_FINAL)
    figure, (axes,) = _new_figure(3.6)
    labels = [label for label, _ in TIME_TO_FINAL_BUCKETS]
    width = 0.8 / len(figures)
    for index, kind_figure in enumerate(figures):
        positions = [n - 0.4 + width * (index + 0.5) for n in range(len(labels))]
        axes.bar(
            positions,
            kind_figure.counts,
            width=width,
            label=f"{kind_figure.kind.value} (median {duration(kind_figure.median)})",
            color=KIND_COLOURS[kind_figure.kind],
        )
    axes.set_xticks(range(len(labels)), labels)
    _label(axes, TIME_TO_FINAL)
    axes.legend(fontsize=8)
    return _drawn(figure, TIME_TO_FINAL)


def pending_ages_chart(ages: PendingAges) -> Chart:
    if not ages.payouts:
        return _no_data(PENDING_AGES)
    figure, (axes,) = _new_figure(3.4)
    labels = [label for label, _ in PENDING_AGE_BUCKETS]
    axes.bar(labels, ages.within_window, label="within its window", color="#1565c0")
    axes.bar(labels, ages.past_window, bottom=ages.within_window, label="past its window", color="#c62828")
    window_edge = next(i for i, (_, below) in enumerate(PENDING_AGE_BUCKETS) if below == SEED_WINDOW) + 0.5
    axes.axvline(window_edge, color="#c62828", linestyle="--", linewidth=1)
    axes.text(window_edge, 0.5, "5-day window closes ", transform=axes.get_xaxis_transform(), ha="right")
    _label(axes, PENDING_AGES)
    axes.legend(fontsize=8, loc="upper left")
    return _drawn(figure, PENDING_AGES)


def checks_chart(checks: ChecksPerPending) -> Chart:
    if not checks.items:
        return _no_data(CHECKS_PER_PENDING)
    figure, (axes,) = _new_figure(3.4)
    series = [(kind, "settled", c) for kind, c in checks.settled.items()]
    series += [(kind, "still pending", c) for kind, c in checks.still_pending.items()]
    most = max(max(counter) for _, _, counter in series)
    positions = list(range(most + 1))
    bottom = [0] * len(positions)
    for kind, state, counter in series:
        counts = [counter[n] for n in positions]
        axes.bar(
            positions,
            counts,
            bottom=bottom,
            label=f"{kind.value}, {state}",
            color=KIND_COLOURS[kind],
            hatch="//" if state == "still pending" else None,
            edgecolor="white",
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _label(axes, CHECKS_PER_PENDING, counts="xy")
    axes.legend(fontsize=8)
    return _drawn(figure, CHECKS_PER_PENDING)


def failures_chart(rows: Sequence[FailureRow]) -> Chart:
    if not rows:
        return _no_data(FAILURES_BY_CODE)
    shown = list(rows[:MAX_FAILURE_BARS])[::-1]  # the most frequent at the top
    figure, (axes,) = _new_figure(1.2 + 0.32 * len(shown))
    axes.barh(
        [row.label for row in shown],
        [row.count for row in shown],
        color=[KIND_COLOURS[r.kind] for r in shown],
    )
    for index, row in enumerate(shown):
        axes.text(row.count, index, f" {row.count}", va="center", fontsize=8)
    more = f" (the {MAX_FAILURE_BARS} most frequent of {len(rows)})" if len(rows) > MAX_FAILURE_BARS else ""
    _label(axes, FAILURES_BY_CODE, counts="x", title=FAILURES_BY_CODE.title + more)
    return _drawn(figure, FAILURES_BY_CODE)


# ---- the page ------------------------------------------------------------------------------
def duration(elapsed: timedelta) -> str:
    seconds = int(elapsed.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def _figure(chart: Chart, caption: str) -> str:
    state = "drawn" if chart.has_data else "no-data"
    return (
        f'<figure class="chart" data-chart="{chart.chart_id}" data-state="{state}">{chart.svg}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], table_id: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty" data-table="{table_id}">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table data-table="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _dlq_tiles(snapshots: Sequence[StackSnapshot]) -> str:
    tiles = []
    for snapshot in snapshots:
        dlq = snapshot.dlq
        if dlq is None:
            value, note, state = "?", "no dead-letter queue found", "unknown"
        elif dlq.error is not None:
            value, note, state = "?", f"could not be read: {dlq.error}", "unknown"
        else:
            value = str(dlq.total)
            note = f"{dlq.visible} waiting, {dlq.in_flight} being read"
            state = "empty" if dlq.total == 0 else "messages"
        tiles.append(
            f'<div class="tile dlq {state}" data-dlq="{_e(snapshot.label)}">'
            f'<div class="value">{_e(value)}</div>'
            f"<div>{_e(snapshot.label)}: {_e(dlq.name if dlq else 'PayoutDLQ')}</div>"
            f'<div class="note">{_e(note)}</div></div>'
        )
    return "".join(tiles)


def _summary(records: Sequence[ItemRecord]) -> str:
    rows = []
    for kind in Kind:
        members = [r for r in records if r.kind is kind]
        if members:
            final = sum(1 for r in members if r.is_final)
            review = sum(1 for r in members if r.status == "NEEDS_REVIEW")
            rows.append((kind.value, len(members), final, len(members) - final - review, review))
    return _table(
        ["kind", "items", "final", "open (not final, not in review)", "NEEDS_REVIEW"],
        rows,
        "summary",
        "No items in the tables read.",
    )


CHECK_SCRIPT = """
(function () {
  var figures = document.querySelectorAll("figure.chart");
  var drawn = 0;
  figures.forEach(function (figure) {
    var svg = figure.querySelector("svg");
    var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    var shapes = 0;
    if (svg) {
      svg.querySelectorAll("path, use, rect, text").forEach(function (shape) {
        if (shape.closest("defs")) { return; }
        var b = shape.getBBox();
        if (b.width > 0 || b.height > 0) { shapes++; }
      });
    }
    figure.setAttribute("data-rendered-width", String(Math.round(box.width)));
    figure.setAttribute("data-rendered-height", String(Math.round(box.height)));
    figure.setAttribute("data-rendered-shapes", String(shapes));
    if (box.width > 0 && box.height > 0 && shapes > 0) { drawn++; }
  });
  document.body.setAttribute("data-charts-rendered", drawn + "/" + figures.length);
})();
"""

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #212121; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #555; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
.tiles { display: flex; gap: 1em; flex-wrap: wrap; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 12em; }
.tile .value { font-size: 2em; font-weight: bold; } .tile .note { color: #555; font-size: 0.85em; }
.tile.messages { border-color: #c62828; } .tile.messages .value { color: #c62828; }
.tile.empty .value { color: #2e7d32; }
.empty { color: #555; font-style: italic; }
"""


def render_report(
    snapshots: Sequence[StackSnapshot], *, generated_at: datetime, since: datetime | None = None
) -> str:
    """The whole page, from plain records."""
    records = [record for snapshot in snapshots for record in snapshot.items]
    ages = pending_payouts_by_age(snapshots)
    took = time_to_final(records)
    failures = failures_by_code(records)
    reviews = needs_review(records)
    stacks = ", ".join(f"{s.label} (as of {s.as_of:%Y-%m-%d %H:%M} UTC)" for s in snapshots)
    unreadable = sum(s.unreadable for s in snapshots)
    missing = sorted({table for s in snapshots for table in s.missing_tables})
    notes = []
    if unreadable:
        notes.append(f"{unreadable} stored item(s) could not be read and are not counted.")
    if missing:
        notes.append(f"Tables not found (left out): {', '.join(missing)}.")
    window = f"items created since {since:%Y-%m-%d %H:%M} UTC, and every open item" if since else "all items"
    sections = [
        "<h2>Items by final status per day</h2>",
        _figure(
            finals_per_day_chart(finals_per_day(records)),
            "Each bar counts the items that reached a final status that day, by status; one row per kind.",
        ),
        "<h2>Time to final status</h2>",
        _figure(
            time_to_final_chart(took),
            "From intake to the final transition. A long tail at 1-6 days is Paytm's pending window "
            "(KYC, limits, new users), not a fault.",
        ),
        _table(
            ["kind", "median", "90th percentile", "longest"],
            [(f.kind.value, duration(f.median), duration(f.p90), duration(f.longest)) for f in took],
            "time-to-final",
            "No final items.",
        ),
        "<h2>Pending payouts by age</h2>",
        _figure(
            pending_ages_chart(ages),
            "Paytm settles a pending credit within 5 days (or the payout's pending_days_limit); a "
            "day after its window a payout still pending goes to NEEDS_REVIEW.",
        ),
        _table(
            ["order id", "age", "window", "past its window"],
            [
                (p.order_id, duration(p.age), duration(p.window), "yes" if p.past_window else "")
                for p in ages.payouts[:50]
            ],
            "pending-payouts",
            "No payout is pending.",
        ),
        "<h2>Status checks per pending item</h2>",
        _figure(
            checks_chart(checks_per_pending_item(snapshots)),
            "Checks recorded on the item plus the fixed check ages its pending spell passed (a routine "
            "check of a pending item writes nothing). A fixed 5-minute poll over 5 days would be 1,440.",
        ),
        "<h2>Failures by Paytm's code</h2>",
        _figure(
            failures_chart(failures),
            "Final failures by Paytm's last code; the table gives each code's meaning.",
        ),
        _table(
            ["kind", "code", "items", "statuses", "amount", "meaning"],
            [
                (
                    r.kind.value,
                    r.code or "-",
                    r.count,
                    ", ".join(f"{s} {n}" for s, n in r.statuses.items()),
                    _money(r.amount),
                    r.meaning,
                )
                for r in failures
            ],
            "failures",
            "No item failed.",
        ),
        "<h2>Dead-letter queue</h2>",
        f'<div class="tiles">{_dlq_tiles(snapshots)}</div>',
        '<p class="meta">Messages here failed five times (a configuration error: keys, merchant, '
        "sub-wallet). Fix the cause, then <code>tijori dlq redrive</code>: the items resume where "
        "they stopped.</p>",
        f"<h2>NEEDS_REVIEW ({len(reviews)})</h2>",
        _table(
            ["kind", "id", "amount", "in review since", "why", "latest note", "Paytm's code", "meaning"],
            [
                (
                    r.kind.value,
                    r.item_id,
                    _money(r.amount),
                    f"{r.since:%Y-%m-%d %H:%M}" if r.since else "",
                    r.reason,
                    r.latest or "",
                    r.paytm_code or "",
                    r.meaning or "",
                )
                for r in reviews
            ],
            "needs-review",
            "Nothing is waiting for a human.",
        ),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Tijori operators' report</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Tijori operators' report</h1>"
        f'<p class="meta">Generated {generated_at:%Y-%m-%d %H:%M} UTC from {_e(stacks)}; {_e(window)}.</p>'
        + "".join(f'<p class="meta">{_e(note)}</p>' for note in notes)
        + _summary(records)
        + "".join(sections)
        + f"<script>{CHECK_SCRIPT}</script></body></html>\n"
    )
