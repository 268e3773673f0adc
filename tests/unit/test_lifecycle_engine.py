"""The lifecycle engine's pure parts: status tables and the error-catalogue shape."""

from __future__ import annotations

from enum import StrEnum

import pytest

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.lifecycle.states import IllegalTransitionError, StatusTable
from tijori.payments.lifecycle import PAYMENT_LIFECYCLE, REFUND_LIFECYCLE
from tijori.payouts.lifecycle import PAYOUT_LIFECYCLE
from tijori.paytm.wallet_codes import WALLET_CATALOGUE


class Light(StrEnum):
    RED = "RED"
    GREEN = "GREEN"
    OFF = "OFF"


def test_a_status_with_nowhere_to_go_is_final_and_every_move_is_checked_against_the_table() -> None:
    table = StatusTable(
        "light",
        {
            Light.RED: frozenset({Light.GREEN, Light.OFF}),
            Light.GREEN: frozenset({Light.OFF}),
            Light.OFF: frozenset(),
        },
    )
    assert table.finals == {Light.OFF}
    table.check(Light.RED, Light.GREEN)
    with pytest.raises(IllegalTransitionError, match="GREEN -> RED is not an allowed light transition"):
        table.check(Light.GREEN, Light.RED)
    with pytest.raises(IllegalTransitionError):
        table.check(Light.OFF, Light.RED)


def test_a_table_naming_a_target_without_its_own_row_is_refused() -> None:
    with pytest.raises(ValueError, match="targets without a row"):
        StatusTable("light", {Light.RED: frozenset({Light.GREEN})})


@pytest.mark.parametrize(
    "table", [PAYOUT_LIFECYCLE, PAYMENT_LIFECYCLE, REFUND_LIFECYCLE], ids=lambda t: t.kind
)
def test_no_kind_moves_out_of_a_final_status_or_back_to_where_it_began(table: StatusTable[StrEnum]) -> None:
    start = next(iter(table.allowed))
    for status, targets in table.allowed.items():
        assert start not in targets or status == start, (status, start)
        if table.is_final(status):
            assert targets == frozenset()


CATALOGUE = CodeCatalogue("test", {"OK": Outcome.SUCCESS, "WAIT": Outcome.PENDING}, {"OK": "all good"})


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("OK", Outcome.SUCCESS),
        (" ok ", Outcome.SUCCESS),
        ("WAIT", Outcome.PENDING),
        ("NEW_1", Outcome.AMBIGUOUS),
        (None, Outcome.AMBIGUOUS),
        ("", Outcome.AMBIGUOUS),
    ],
)
def test_a_catalogue_reads_codes_as_written_and_an_unknown_code_is_ambiguous(
    code: str | None, outcome: Outcome
) -> None:
    assert CATALOGUE.outcome_of(code) is outcome


def test_a_catalogue_gives_the_meaning_where_the_documents_do() -> None:
    assert CATALOGUE.meaning_of("ok") == "all good"
    assert CATALOGUE.meaning_of("WAIT") is None
    assert "OK" in CATALOGUE
    assert "NOPE" not in CATALOGUE


def test_the_wallet_family_is_a_catalogue_of_the_engine() -> None:
    assert WALLET_CATALOGUE.outcome_of("STUC_1009") is Outcome.NOT_FOUND
    assert WALLET_CATALOGUE.outcome_of("NEVER_SEEN_9") is Outcome.AMBIGUOUS
