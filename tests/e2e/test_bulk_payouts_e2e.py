"""Bulk payouts end to end: `tijori payouts submit` (a real subprocess) against the local runtime
and the Paytm simulator. Money is counted where it moves: the simulator's log of the
salesToUserCredit requests Tijori sent, per order id.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.local.conftest import wait_until
from tijori_local.operators.bulk_submit import default_batch_id, results_path, state_path
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "bulk-e2e-token"
CREDIT = "/wallet-web/salesToUserCredit"
HEADER = (
    "order_id,amount,phone,email,sso_id,mode,narration,rail,pending_days_limit,payee_validation_id,urn,"
    "subwallet_id"
)
_EMAIL_PATTERN = (
    r"^[^@\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+"
    r"@[^@\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+"
    r"\.[^@\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+$"
)
_DECIMAL = 'Value error, must be a decimal string with at most 2 decimal places, e.g. "10.50"'

# (row after the order id, the error the API must answer for it: field, reason, type). Each is
# placed among the good rows; the order id is filled in.
BAD_ROWS: list[tuple[str, tuple[str, str, str]]] = [
    (
        "0.50,{phone},,,existing_user,too small,,,,,",
        ("amount", "Value error, must be at least 1.00", "value_error"),
    ),
    ("ten,{phone},,,existing_user,not a number,,,,,", ("amount", _DECIMAL, "value_error")),
    ("10.505,{phone},,,existing_user,three decimals,,,,,", ("amount", _DECIMAL, "value_error")),
    (
        "01.00,{phone},,,existing_user,leading zero,,,,,",
        ("amount", 'Value error, must not start with a zero, e.g. "10.50"', "value_error"),
    ),
    (
        "10.00,12345,,,existing_user,short phone,,,,,",
        ("phone", "String should match pattern '^[6-9][0-9]{9}$'", "string_pattern_mismatch"),
    ),
    (
        "10.00,{phone},a@example.com,,existing_user,two payees,,,,,",
        ("payee", "Value error, payee must have exactly one of phone, email, sso_id", "value_error"),
    ),
    ("10.00,,,,existing_user,no payee,,,,,", ("payee", "Field required", "missing")),
    (
        "10.00,{phone},,,sometimes,bad mode,,,,,",
        ("mode", "Input should be 'verified_user', 'existing_user' or 'any_user'", "enum"),
    ),
    (
        "10.00,{phone},,,existing_user,bell \x07 in text,,,,,",
        (
            "narration",
            "Value error, must not contain control or bidirectional characters (U+0007 at position 5)",
            "value_error",
        ),
    ),
    (
        "10.00,,not-an-email,,existing_user,bad email,,,,,",
        ("email", f"String should match pattern '{_EMAIL_PATTERN}'", "string_pattern_mismatch"),
    ),
    (
        "10.00,{phone},,,existing_user,bad rail,bank,,,,",
        ("rail", "rail must be `wallet` (the default) or `prepaid`", "rail_invalid"),
    ),
    (
        "10.00,{phone},,,existing_user,days not a number,,x,,,",
        ("pending_days_limit", "must be a whole number of days", "int_parsing"),
    ),
    (
        "10.00,{phone},,,existing_user,too many days,,9,,,",
        ("pending_days_limit", "Input should be less than or equal to 5", "less_than_equal"),
    ),
    (
        "10.00,{phone},,,existing_user,one cell too many,,,,,,extra",
        ("row", "the row has 13 cells; the header names 12 columns", "csv_cell_count"),
    ),
    (
        "10.00,,,ab-c,existing_user,bad sso id,,,,,",
        ("sso_id", "String should match pattern '^[A-Za-z0-9]+$'", "string_pattern_mismatch"),
    ),
    (
        "10.00,{phone},,,existing_user,unknown validation,,,VAL-NONE,,",
        ("payee_validation_id", "no payee validation 'VAL-NONE'", "unknown_validation"),
    ),
    (
        "10.00,,,,,prepaid without account,prepaid,,,70000000008,",
        (
            "payee",
            "Value error, a prepaid payee has exactly one of subwallet_id, account_number",
            "value_error",
        ),
    ),
]


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def _tijori(runtime: LocalRuntime, file: Path, *extra: str) -> list[str]:
    tijori = Path(sys.executable).parent / "tijori"
    return [
        str(tijori),
        "payouts",
        "submit",
        str(file),
        "--api-url",
        runtime.api_url,
        "--api-token",
        TOKEN,
        "--poll-seconds",
        "0.5",
        *extra,
    ]


def _submit(runtime: LocalRuntime, file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        _tijori(runtime, file, *extra), capture_output=True, text=True, timeout=1200, check=False
    )


def _new_users(sim: httpx.Client, phones: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        for answer in pool.map(lambda phone: sim.post("/_sim/users", json={"phone": phone}), phones):
            answer.raise_for_status()


def _credit_requests(sim: httpx.Client, prefix: str) -> Counter[str]:
    """salesToUserCredit requests Tijori sent, per order id (the simulator's own log)."""
    entries = sim.get("/_sim/requests").json()["entries"]
    return Counter(
        {
            entry["orderId"]: entry["count"]
            for entry in entries
            if entry["path"] == CREDIT and entry["orderId"].startswith(prefix)
        }
    )


def _good_rows(prefix: str, count: int, first_phone: int) -> tuple[list[str], list[str], list[str]]:
    """Rows, and the phones to create in the simulator: every tenth payee has no wallet, so its
    payout FAILS (appliedToNewUsers N) and the results show a failure's reason."""
    rows, users, order_ids = [], [], []
    for index in range(count):
        phone = str(first_phone + index)
        order_id = f"{prefix}-{index:04d}"
        rows.append(f"{order_id},{10 + index % 7}.50,{phone},,,existing_user,cashback {index},,,,,")
        order_ids.append(order_id)
        if index % 10:
            users.append(phone)
    return rows, users, order_ids


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


# The 1,000 payouts go through the simulator at the local runtime's pace (a few a second on a
# loaded machine): a deadline for the whole run, not a timing assertion.
@pytest.mark.timeout(1500)
def test_a_thousand_row_file_settles_980_and_answers_each_of_20_bad_rows_exactly(
    runtime: LocalRuntime, sim: httpx.Client, tmp_path: Path
) -> None:
    good, users, good_ids = _good_rows("BULK1", 980, 7_100_000_000)
    _new_users(sim, users)
    rows = list(good)
    expected: dict[int, tuple[str | None, tuple[str, str, str]]] = {}
    bad_phone = 7_199_000_000
    # 17 bad rows of their own kinds (BAD_ROWS), one every 50 rows; then a bad order id, a missing one and a
    # repeated one (with another body).
    for number, (rest, _) in enumerate(BAD_ROWS):
        order_id = f"BULK1-BAD-{number:02d}"
        position = 25 + number * 50
        rows.insert(position, f"{order_id}," + rest.format(phone=bad_phone + number))
    rows.insert(990, "bad id!,10.00,7199000900,,,existing_user,bad order id,,,,,")
    rows.insert(995, ",10.00,7199000901,,,existing_user,no order id,,,,,")
    rows.append(f"{good_ids[0]},99.00,7199000902,,,existing_user,repeated order id,,,,,")
    assert len(rows) == 1000
    for index, row in enumerate(rows):
        order_id = row.split(",", 1)[0]
        if order_id.startswith("BULK1-BAD-"):
            expected[index + 2] = (order_id, BAD_ROWS[int(order_id[-2:])][1])
    expected[rows.index("bad id!,10.00,7199000900,,,existing_user,bad order id,,,,,") + 2] = (
        "bad id!",
        ("order_id", "String should match pattern '^[A-Za-z0-9\\-_@]{1,50}$'", "string_pattern_mismatch"),
    )
    expected[997] = (None, ("order_id", "Field required", "missing"))
    # Line 2's order id again, in the file's second request (500 rows a request): the API judges it
    # by the payout line 2 stored, whose body differs.
    expected[1001] = (
        good_ids[0],
        (
            "order_id",
            f"order_id '{good_ids[0]}' already exists with a different amount, payee, narration",
            "order_id_conflict",
        ),
    )
    assert len(expected) == 20
    file = _write(tmp_path / "cashback.csv", rows)

    run = _submit(runtime, file, "--wait")  # two requests of 500 rows

    assert run.returncode == 1, run.stderr  # some rows were rejected
    state = json.loads(state_path(file).read_text(encoding="utf-8"))
    rejected = [row for ack in state["acknowledged"].values() for row in ack["rejected"]]
    assert {row["line"]: (row["order_id"], tuple(row["errors"][0].values())) for row in rejected} == expected
    assert all(len(row["errors"]) == 1 for row in rejected)
    with results_path(file).open(encoding="utf-8", newline="") as results:
        lines = list(csv.DictReader(results))
    assert len(lines) == 1000
    assert [int(line["line"]) for line in lines] == list(range(2, 1002))
    by_status = Counter(line["status"] for line in lines)
    assert by_status == {"SUCCESS": 882, "FAILED": 98, "REJECTED": 20}
    for line in lines:
        if line["status"] == "SUCCESS":
            assert line["paytm_txn_id"], line
        if line["status"] == "REJECTED":
            _, (field, reason, _) = expected[int(line["line"])]
            assert line["reason"] == f"{field}: {reason}"
    failed = next(line for line in lines if line["status"] == "FAILED")
    assert failed["last_status_code"] == "STUC_1002"
    assert failed["reason"]
    # Every accepted row was sent to Paytm exactly once, and no rejected one at all.
    assert _credit_requests(sim, "BULK1-") == dict.fromkeys(good_ids, 1)


def test_an_interrupted_submission_rerun_pays_every_row_once(
    runtime: LocalRuntime, sim: httpx.Client, tmp_path: Path
) -> None:
    good, users, good_ids = _good_rows("BULK2", 120, 7_200_000_000)
    _new_users(sim, users)
    file = _write(tmp_path / "salaries.csv", good)
    process = subprocess.Popen(  # noqa: S603 - our own console script
        _tijori(runtime, file, "--wait"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    batch_id = default_batch_id(file.read_bytes())

    def waiting_while_paid() -> bool:
        if not state_path(file).exists():  # not acknowledged yet
            return False
        answer = api.get(f"/v1/payout-batches/{batch_id}")
        return answer.status_code == 200 and answer.json()["count_by_status"]["SUCCESS"] > 0

    # Interrupted while it waits: the batch was acknowledged, payouts are being paid.
    assert wait_until(waiting_while_paid, timeout=120, interval=0.2)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode != 0
    assert not results_path(file).exists()

    rerun = _submit(runtime, file, "--wait")

    assert rerun.returncode == 0, rerun.stderr
    assert "acknowledged before, not sent again" in rerun.stderr
    with results_path(file).open(encoding="utf-8", newline="") as results:
        statuses = Counter(line["status"] for line in csv.DictReader(results))
    assert statuses == {"SUCCESS": 108, "FAILED": 12}
    assert _credit_requests(sim, "BULK2-") == dict.fromkeys(good_ids, 1)


def test_a_rerun_after_an_interrupt_before_the_acknowledgement_pays_every_row_once(
    runtime: LocalRuntime, sim: httpx.Client, tmp_path: Path
) -> None:
    good, users, good_ids = _good_rows("BULK3", 60, 7_300_000_000)
    _new_users(sim, users)
    file = _write(tmp_path / "rewards.csv", good)
    # Killed as soon as it starts: the batch may or may not have reached the API; no state says so.
    process = subprocess.Popen(  # noqa: S603 - our own console script
        _tijori(runtime, file, "--wait"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    batch_id = default_batch_id(file.read_bytes())
    api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert wait_until(lambda: api.get(f"/v1/payout-batches/{batch_id}").status_code == 200, timeout=120)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    state_path(file).unlink(missing_ok=True)  # as if killed before the acknowledgement was written

    rerun = _submit(runtime, file, "--wait")

    assert rerun.returncode == 0, rerun.stderr
    assert "60 accepted (0 new)" in rerun.stderr
    assert _credit_requests(sim, "BULK3-") == dict.fromkeys(good_ids, 1)


def test_two_concurrent_submissions_of_one_file_pay_each_row_once(
    runtime: LocalRuntime, sim: httpx.Client, tmp_path: Path
) -> None:
    good, users, good_ids = _good_rows("BULK4", 120, 7_400_000_000)
    _new_users(sim, users)
    files = []
    for operator in ("first", "second"):
        (tmp_path / operator).mkdir()
        files.append(_write(tmp_path / operator / "bonus.csv", good))
    # Two operators, two machines (two state files), the same file at the same moment.
    processes = [
        subprocess.Popen(  # noqa: S603 - our own console script
            _tijori(runtime, file, "--wait"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for file in files
    ]
    outputs = [process.communicate(timeout=600)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    news = [
        sum(ack["new"] for ack in json.loads(state_path(file).read_text())["acknowledged"].values())
        for file in files
    ]
    assert sum(news) == 120  # each row stored by exactly one of them
    assert _credit_requests(sim, "BULK4-") == dict.fromkeys(good_ids, 1)
    # Both wrote their results from the same settled batch.
    first, second = (results_path(file).read_text(encoding="utf-8") for file in files)
    assert first == second
