"""The simulator's world: merchant sub-wallets, users, orders, and a ledger of every movement.

All money moves through `SimState.move`, which writes one ledger entry (order id, amount, from,
to, time) and changes two balances under one lock. `conservation()` replays the ledger and checks
that nothing was created or lost and that no order was credited twice.

Accounts are plain names: `merchant:<guid>` (sub-wallets), `user:<ssoId>` (user wallets),
`hold:sales-to-user` (money accepted for a PENDING credit), `prepaid:<urn>`, `pg:<mid>` (PG
collections). `external` is the world outside (initial funding, top-ups, loads, card payments):
it is the only account allowed to go negative.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum
from typing import Any, Literal

from paytm_signing import MerchantCredentials
from tijori_local.sim.clock import SimClock
from tijori_local.sim.codes import message_for
from tijori_local.sim.wire import ZERO

__all__ = [
    "DEFAULT_PENDING_DAYS",
    "DEFAULT_SUB_WALLET_BALANCE",
    "EXTERNAL",
    "HOLD",
    "IST",
    "MAX_PENDING_DAYS",
    "SCRIPTABLE",
    "BusinessError",
    "CreditRequest",
    "CreditStatus",
    "LedgerEntry",
    "SalesCredit",
    "Script",
    "SimState",
    "SubWallet",
    "User",
    "UserLimits",
    "decimal_field",
]

DEFAULT_SUB_WALLET_BALANCE = Decimal("10000000.00")
"""Each merchant sub-wallet starts with ten million rupees."""

DEFAULT_PENDING_DAYS = 5
"""Seed 000: a pending credit stays pending for at most 5 days unless `pendingDaysLimit` says."""

MAX_PENDING_DAYS = 5
"""Seed 000: "the pending state will remain for a maximum of 5 days": a larger
`pendingDaysLimit` is treated as 5."""

IST = timezone(timedelta(hours=5, minutes=30))
"""RBI wallet limits are Indian: a month starts at midnight IST (UTC+05:30)."""

EXTERNAL = "external"
HOLD = "hold:sales-to-user"

PayeeKind = Literal["ssoId", "phone", "email"]
PayeeKey = tuple[PayeeKind, str]
"""How a payee is found: ("ssoId", id), ("phone", number) or ("email", lower-cased address)."""

MONTHLY_LIMIT_CODES = frozenset({"RWL_0004", "RWL_1001"})
"""Pending codes that depend on the month (IST): a month boundary can release such a credit. Every
other reason is decided before the monthly limits are looked at, so a new month cannot change it."""


def decimal_field(value: object, name: str) -> Decimal:
    """A control-API amount: a finite, non-negative decimal with at most two places (so that no
    NaN or infinity can get into the state and break every later comparison)."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
        raise ValueError(f"{name} must be a decimal amount")
    amount = Decimal(str(value).strip())
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be a finite amount >= 0")
    quantized = amount.quantize(ZERO)
    if quantized != amount:
        raise ValueError(f"{name} has more than two decimal places")
    return quantized


def _check_user_changes(changes: dict[str, Any]) -> None:
    """Refuse (ValueError) a change that would leave a user the simulator cannot work with; done
    before anything is changed, so a refused change changes nothing."""
    for name in ("sso_id", "phone", "email"):
        value = changes.get(name)
        allowed: tuple[type, ...] = (str, int) if name == "sso_id" else (str,)
        if value is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            raise ValueError(f"{name} must be a string or null")
    limits = changes.get("limits", {})
    if limits is None:
        limits = {}
    if not isinstance(limits, dict):
        raise ValueError("limits must be an object")
    for name in ("per_txn", "max_balance", "monthly_credit"):
        if limits.get(name) is not None:
            decimal_field(limits[name], f"limits.{name}")
    count = limits.get("monthly_txn_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError("limits.monthly_txn_count must be a whole number >= 0 or null")
    if "balance" in changes:
        decimal_field(changes["balance"], "balance")


class BusinessError(Exception):
    """A request Paytm refuses before moving any money; `code` is the seed's code."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else message_for(code)


class CreditStatus(IntEnum):
    """checkStatus `status` (seed 000)."""

    INIT = 0
    SUCCESS = 1
    FAILURE = 2
    PENDING = 3


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: datetime
    order_id: str | None
    amount: Decimal
    source: str
    target: str
    kind: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.at.isoformat(),
            "orderId": self.order_id,
            "amount": self.amount,
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class SubWallet:
    guid: str
    name: str
    kind: Literal["SALES", "PAYOUTS"]

    @property
    def account(self) -> str:
        return f"merchant:{self.guid}"


@dataclass
class UserLimits:
    """Monthly / balance limits of a user wallet; None = no limit. Codes: RWL_* (seed 000)."""

    per_txn: Decimal | None = None  # RWL_0003
    max_balance: Decimal | None = None  # RWL_1000
    monthly_credit: Decimal | None = None  # RWL_1001
    monthly_txn_count: int | None = None  # RWL_0004


@dataclass
class User:
    sso_id: str
    phone: str | None = None
    email: str | None = None
    mobile_verified: bool = True
    email_verified: bool = True
    kyc: bool = True
    wallet_exists: bool = True
    blocked: bool = False  # auto-debit (seed 002): send OTP answers 433 Account Blocked
    limits: UserLimits = field(default_factory=UserLimits)

    @property
    def account(self) -> str:
        return f"user:{self.sso_id}"

    @property
    def has_verified_email(self) -> bool:
        """A user without an email address cannot have a verified one."""
        return self.email_verified and bool(self.email)


@dataclass
class Script:
    """A scripted outcome for one order id (control API); `api` None = the first API that gets
    that order id and can honour the outcome."""

    outcome: str
    code: str | None = None
    message: str | None = None
    api: str | None = None


SCRIPTABLE: dict[str, frozenset[str]] = {
    "salesToUserCredit": frozenset({"SUCCESS", "PENDING", "FAILURE", "REFUNDED_BACK"}),
    "validation": frozenset({"PENDING", "FAILURE"}),
    "withdraw": frozenset({"FAILURE"}),
}
"""Which scripted outcomes each API honours (anything else is refused by `/_sim/script`)."""


@dataclass(frozen=True)
class CreditRequest:
    """A salesToUserCredit request that passed format validation."""

    order_id: str
    sales_wallet_guid: str
    sales_wallet_name: str | None
    payee_kind: PayeeKind
    payee: str
    amount: Decimal
    applied_to_new_users: bool
    apply_verified_user: str | None
    pending_days: int | None
    metadata: Any


@dataclass
class SalesCredit:
    """One accepted salesToUserCredit (its merchantOrderId is now taken)."""

    order_id: str
    wallet_txn_id: str
    amount: Decimal
    sub_wallet: SubWallet
    payee_kind: PayeeKind
    payee: str
    applied_to_new_users: bool
    apply_verified_user: str | None
    created_at: datetime
    deadline: datetime
    status: CreditStatus = CreditStatus.INIT
    message: str = "INIT"
    code: str | None = None
    is_limit_pending: bool = False
    sso_id: str | None = None
    forced_pending: bool = False
    resolved_at: datetime | None = None
    pending_seq: int = -1
    """Order in which credits became PENDING: pending credits are evaluated in this order."""

    @property
    def payee_key(self) -> PayeeKey:
        return _payee_key(self.payee_kind, self.payee)


class SimState:
    """Everything the simulator knows. One re-entrant lock guards all of it."""

    def __init__(
        self,
        credentials: MerchantCredentials,
        clock: SimClock,
        *,
        sub_wallet_balance: Decimal = DEFAULT_SUB_WALLET_BALANCE,
    ) -> None:
        # Every product's section is needed here (both sub-wallets); build_context gives a product
        # the merchant is not onboarded on keys and ids nobody holds (context.with_every_product).
        self.credentials = credentials
        self.clock = clock
        self.lock = threading.RLock()
        self.merchant_active = True
        self.merchant_phone: str | None = None
        self.merchant_email: str | None = None
        self.sub_wallets: dict[str, SubWallet] = {
            credentials.wallet.sales_wallet_guid: SubWallet(
                credentials.wallet.sales_wallet_guid, "SALES", "SALES"
            ),
            credentials.payouts.subwallet_guid: SubWallet(
                credentials.payouts.subwallet_guid, "PAYOUTS", "PAYOUTS"
            ),
        }
        self.balances: dict[str, Decimal] = {}
        self.ledger: list[LedgerEntry] = []
        self.users: dict[str, User] = {}
        self.credits: dict[str, SalesCredit] = {}
        self.credits_by_txn: dict[str, SalesCredit] = {}
        # Indexes, so that a request costs the same with 10 or 100,000 orders behind it.
        self._pending: dict[str, SalesCredit] = {}
        # Pending credits are re-evaluated only when something they depend on changed, never by a
        # scan per request (the outcome is the same as evaluating every pending credit, oldest
        # first, at every evaluation point: a credit whose inputs did not change would come out
        # the same). Deadlines and creation times are heaps (stale entries are skipped when they
        # surface); credits that can be released (not scripted PENDING) are indexed by payee;
        # `_dirty` holds the payees whose user changed (created, KYC, wallet, verification,
        # limits, phone/email, any balance movement) since the last evaluation; `_monthly` the
        # credits blocked by a monthly limit, re-evaluated at every month boundary.
        self._pending_seq = itertools.count()
        self._deadlines: list[tuple[datetime, int, str]] = []
        self._created: list[tuple[datetime, int, str]] = []
        self._by_payee: dict[PayeeKey, dict[int, SalesCredit]] = {}
        self._dirty: set[PayeeKey] = set()
        self._monthly: dict[int, SalesCredit] = {}
        self.pending_evaluations = 0
        """How many times a pending credit was re-evaluated (a counter, for tests of the cost)."""
        self._month_totals: dict[tuple[str, int, int], tuple[Decimal, int]] = {}
        # When pending credits were last evaluated: time between then and now is replayed event
        # by event (deadlines, month boundaries), so the outcome never depends on how the clock
        # was advanced.
        self._evaluated_at = clock.now()
        self._by_phone: dict[str, User] = {}
        self._by_email: dict[str, User] = {}
        self.scripts: dict[str, Script] = {}
        # Per-API records kept by the other modules (validation, prepaid, pg, auto-debit).
        self.records: dict[str, dict[str, Any]] = {}
        # Extra conservation checks registered by API modules (PG: refunds <= captured).
        self.invariants: list[Callable[[], list[str]]] = []
        self._seq = itertools.count(1)
        self._txn_ids = itertools.count(1_000_001)
        self._sso_ids = itertools.count(190_000_001)
        for wallet in self.sub_wallets.values():
            self.move(EXTERNAL, wallet.account, sub_wallet_balance, order_id=None, kind="initial")

    # -- money ------------------------------------------------------------------------------

    def next_txn_id(self) -> str:
        return str(next(self._txn_ids))

    def balance(self, account: str) -> Decimal:
        with self.lock:
            return self.balances.get(account, ZERO)

    def move(
        self,
        source: str,
        target: str,
        amount: Decimal,
        *,
        order_id: str | None,
        kind: str,
        at: datetime | None = None,
    ) -> None:
        """Move money between two accounts and record it (at `at`, default now). Only `external`
        may go negative."""
        if amount <= 0:
            raise ValueError("a movement is always positive")
        with self.lock:
            if source != EXTERNAL and self.balances.get(source, ZERO) < amount:
                raise ValueError(f"{source} cannot go negative")
            self.balances[source] = self.balances.get(source, ZERO) - amount
            self.balances[target] = self.balances.get(target, ZERO) + amount
            self.ledger.append(
                LedgerEntry(next(self._seq), at or self.clock.now(), order_id, amount, source, target, kind)
            )
            if self._by_payee:
                # A user's balance is an input of the max-balance limit.
                for account in (source, target):
                    if account.startswith("user:"):
                        self._touch_user_account(account)

    def set_balance(self, account: str, amount: Decimal, *, kind: str = "adjust") -> None:
        """Top up or draw down an account to `amount` (the difference comes from / goes to outside)."""
        with self.lock:
            current = self.balances.get(account, ZERO)
            if amount > current:
                self.move(EXTERNAL, account, amount - current, order_id=None, kind=kind)
            elif amount < current:
                self.move(account, EXTERNAL, current - amount, order_id=None, kind=kind)

    # -- users --------------------------------------------------------------------------------

    def find_user(self, kind: PayeeKind, value: str) -> User | None:
        with self.lock:
            if kind == "ssoId":
                return self.users.get(value)
            if kind == "phone":
                return self._by_phone.get(value)
            return self._by_email.get(value.lower())

    def _touch_user_account(self, account: str) -> None:
        sso_id = account.removeprefix("user:")
        user = self.users.get(sso_id)
        self._touch(_user_keys(user) if user is not None else [("ssoId", sso_id)])

    def _touch(self, keys: list[PayeeKey]) -> None:
        """Something the pending credits of these payees depend on changed: the next evaluation
        re-evaluates them."""
        for key in keys:
            if key in self._by_payee:
                self._dirty.add(key)

    def _reindex_users(self) -> None:
        # Oldest user wins when two share a phone or an email.
        self._by_phone = {}
        self._by_email = {}
        for user in self.users.values():
            if user.phone:
                self._by_phone.setdefault(user.phone, user)
            if user.email:
                self._by_email.setdefault(user.email.lower(), user)

    def upsert_user(self, changes: dict[str, Any]) -> User:
        """Create a user or change one (found by sso_id, else phone, else email), then re-check
        pending credits, since a KYC, a new wallet or a raised limit can release them."""
        _check_user_changes(changes)
        if changes.get("limits") is None:
            changes = {**changes, "limits": {}}
        with self.lock:
            self.resolve_pending()
            user = self._user_for_changes(changes)
            # Before and after: a changed phone or email changes whom both the old and the new
            # address find (a new user is found by its ssoId from now on).
            self._touch(_user_keys(user))
            for name in ("phone", "email"):
                if name in changes:
                    value = changes[name]
                    setattr(user, name, None if value is None else str(value))
            for name in ("mobile_verified", "email_verified", "kyc", "wallet_exists", "blocked"):
                if name in changes:
                    setattr(user, name, bool(changes[name]))
            for name in ("per_txn", "max_balance", "monthly_credit"):
                if name in changes.get("limits", {}):
                    raw = changes["limits"][name]
                    setattr(user.limits, name, None if raw is None else decimal_field(raw, name))
            if "monthly_txn_count" in changes.get("limits", {}):
                raw_count = changes["limits"]["monthly_txn_count"]
                user.limits.monthly_txn_count = None if raw_count is None else int(raw_count)
            self._reindex_users()
            self._touch(_user_keys(user))
            if "balance" in changes:
                self.set_balance(user.account, decimal_field(changes["balance"], "balance"))
            self.resolve_pending()
            return user

    def _user_for_changes(self, changes: dict[str, Any]) -> User:
        sso_id = changes.get("sso_id")
        if sso_id:
            user = self.users.get(str(sso_id))
            if user is None:
                user = User(sso_id=str(sso_id))
                self.users[user.sso_id] = user
            return user
        for kind, key in (("phone", "phone"), ("email", "email")):
            if changes.get(key):
                found = self.find_user(kind, str(changes[key]))  # type: ignore[arg-type]
                if found is not None:
                    return found
        if not changes.get("phone") and not changes.get("email"):
            raise ValueError("a user needs an sso_id, a phone or an email")
        user = User(sso_id=str(next(self._sso_ids)))
        self.users[user.sso_id] = user
        return user

    # -- scripts ------------------------------------------------------------------------------

    def order_taken(self, api: str, order_id: str) -> bool:
        """Whether `api` has already used `order_id` (a script for it could never apply)."""
        with self.lock:
            if api == "salesToUserCredit":
                return order_id in self.credits
            if api == "validation":
                return order_id in self.records.get("validation", {})
            return order_id in self.records.get("pg", {})

    def take_script(self, api: str, order_id: str, *, keep: bool = False) -> Script | None:
        """The script for `order_id` if `api` can honour it (then it is used up unless `keep`),
        else None and the script stays for an API that can."""
        with self.lock:
            script = self.scripts.get(order_id)
            if script is None or script.outcome not in SCRIPTABLE[api]:
                return None
            if script.api is not None and script.api != api:
                return None
            if not keep:
                del self.scripts[order_id]
            return script

    # -- seed 000: salesToUserCredit ----------------------------------------------------------

    def sub_wallet_for(self, guid: str, name: str | None) -> SubWallet:
        wallet = self.sub_wallets.get(guid)
        if wallet is None:
            raise BusinessError("STUC_1000")
        if name and name != wallet.name:
            raise BusinessError("STUC_1005")
        if wallet.kind != "SALES":
            raise BusinessError("STUC_1004")
        return wallet

    def _is_merchant_itself(self, request: CreditRequest) -> bool:
        creds = self.credentials
        own = {creds.wallet.merchant_guid.lower(), creds.mid.lower()}
        if self.merchant_phone:
            own.add(self.merchant_phone)
        if self.merchant_email:
            own.add(self.merchant_email.lower())
        return request.payee.lower() in own

    def verify_payee(self, request: CreditRequest) -> tuple[bool, str | None]:
        """requestType VERIFY: (exists and verified per applyVerifiedUser, reason code if not)."""
        with self.lock:
            self.sub_wallet_for(request.sales_wallet_guid, request.sales_wallet_name)
            if self._is_merchant_itself(request):
                raise BusinessError("STUC_1003")
            user = self.find_user(request.payee_kind, request.payee)
            if user is None:
                return False, "STUC_1002"
            if not user.wallet_exists:
                return False, "WA_1002"
            unverified = _verification_gap(user, request.apply_verified_user)
            if unverified is not None:
                return False, unverified
            return True, None

    def sales_to_user_credit(self, request: CreditRequest) -> SalesCredit:
        """Accept (debit the sub-wallet) and settle a credit, or raise BusinessError (no money moved)."""
        with self.lock:
            self.resolve_pending()
            wallet = self.sub_wallet_for(request.sales_wallet_guid, request.sales_wallet_name)
            if self._is_merchant_itself(request):
                raise BusinessError("STUC_1003")
            if request.order_id in self.credits:
                raise BusinessError("STUC_1007")
            script = self.take_script("salesToUserCredit", request.order_id, keep=True)
            if script is not None and script.outcome == "FAILURE":
                del self.scripts[request.order_id]
                raise BusinessError(script.code or "GE_0001", script.message)
            if self.balance(wallet.account) < request.amount:
                raise BusinessError("MWL_2001")

            now = self.clock.now()
            days = DEFAULT_PENDING_DAYS if request.pending_days is None else request.pending_days
            days = min(days, MAX_PENDING_DAYS)
            credit = SalesCredit(
                order_id=request.order_id,
                wallet_txn_id=self.next_txn_id(),
                amount=request.amount,
                sub_wallet=wallet,
                payee_kind=request.payee_kind,
                payee=request.payee,
                applied_to_new_users=request.applied_to_new_users,
                apply_verified_user=request.apply_verified_user,
                created_at=now,
                deadline=now + timedelta(days=days),
            )
            self.credits[credit.order_id] = credit
            self.credits_by_txn[credit.wallet_txn_id] = credit
            self.move(wallet.account, HOLD, credit.amount, order_id=credit.order_id, kind="debit")

            if script is not None:
                del self.scripts[request.order_id]
                if self._apply_script(credit, script, now):
                    return credit

            blocked = self._blocking_reason(credit, now)
            user = self.find_user(credit.payee_kind, credit.payee)
            credit.sso_id = user.sso_id if user is not None else credit.payee
            if blocked is None:
                assert user is not None
                self._settle_success(credit, user, now)
                return credit
            code, is_limit, wallet_missing = blocked
            if wallet_missing and not credit.applied_to_new_users:
                # appliedToNewUsers N: "we directly refund this amount to merchant sub wallet".
                credit.code = "STUC_1002" if user is None else "WA_1002"
                self._settle_refund(credit, now)
                return credit
            credit.code = code
            credit.is_limit_pending = is_limit
            if days == 0:
                # pendingDaysLimit 0 means "no pending": what would pend fails at once.
                self._settle_refund(credit, now)
                return credit
            self._mark_pending(credit)
            return credit

    def _mark_pending(self, credit: SalesCredit, *, forced: bool = False) -> None:
        credit.status = CreditStatus.PENDING
        credit.message = "PENDING"
        credit.forced_pending = forced
        credit.pending_seq = seq = next(self._pending_seq)
        self._pending[credit.order_id] = credit
        heapq.heappush(self._deadlines, (credit.deadline, seq, credit.order_id))
        heapq.heappush(self._created, (credit.created_at, seq, credit.order_id))
        if not forced:  # a scripted PENDING credit waits for its deadline or the control API
            self._by_payee.setdefault(credit.payee_key, {})[seq] = credit
            if credit.code in MONTHLY_LIMIT_CODES:
                self._monthly[seq] = credit

    def _unmark_pending(self, credit: SalesCredit) -> None:
        if self._pending.pop(credit.order_id, None) is None:
            return
        key = credit.payee_key
        same_payee = self._by_payee.get(key)
        if same_payee is not None:
            same_payee.pop(credit.pending_seq, None)
            if not same_payee:
                del self._by_payee[key]
                self._dirty.discard(key)
        self._monthly.pop(credit.pending_seq, None)

    def _apply_script(self, credit: SalesCredit, script: Script, now: datetime) -> bool:
        """True when the script settled the credit; SUCCESS falls through to the normal rules
        but without pending conditions when the payee can receive money."""
        if script.outcome == "PENDING":
            credit.code = script.code or "GE_0003"
            self._mark_pending(credit, forced=True)
            credit.sso_id = credit.payee
            return True
        if script.outcome == "REFUNDED_BACK":
            credit.code = script.code or "GE_0003"
            credit.sso_id = credit.payee
            self._settle_refund(credit, now)
            return True
        if script.outcome == "SUCCESS":
            user = self.find_user(credit.payee_kind, credit.payee)
            if user is not None and user.wallet_exists:
                credit.sso_id = user.sso_id
                self._settle_success(credit, user, now)
                return True
        return False

    def _blocking_reason(self, credit: SalesCredit, now: datetime) -> tuple[str, bool, bool] | None:
        """Why a credit cannot reach the user now: (code, is_limit_pending, wallet_missing)."""
        user = self.find_user(credit.payee_kind, credit.payee)
        if user is None:
            return "STUC_1001", False, True
        if not user.wallet_exists:
            return "WA_1004", False, True
        unverified = _verification_gap(user, credit.apply_verified_user)
        if unverified is not None:
            return unverified, False, False
        if not user.kyc:
            return "GE_1026", False, False
        limit_code = self._limit_breach(user, credit.amount, now)
        if limit_code is not None:
            return limit_code, True, False
        return None

    def _limit_breach(self, user: User, amount: Decimal, now: datetime) -> str | None:
        limits = user.limits
        if limits.per_txn is not None and amount > limits.per_txn:
            return "RWL_0003"
        if limits.max_balance is not None and self.balance(user.account) + amount > limits.max_balance:
            return "RWL_1000"
        month_total, month_count = self._month_credits(user, now)
        if limits.monthly_txn_count is not None and month_count + 1 > limits.monthly_txn_count:
            return "RWL_0004"
        if limits.monthly_credit is not None and month_total + amount > limits.monthly_credit:
            return "RWL_1001"
        return None

    def _month_credits(self, user: User, now: datetime) -> tuple[Decimal, int]:
        """What this user received from salesToUserCredit in the calendar month (IST) of `now`."""
        return self._month_totals.get(_month_key(user, now), (ZERO, 0))

    def _settle_success(self, credit: SalesCredit, user: User, now: datetime) -> None:
        self.move(HOLD, user.account, credit.amount, order_id=credit.order_id, kind="credit", at=now)
        credit.status = CreditStatus.SUCCESS
        credit.message = "SUCCESS"
        credit.sso_id = user.sso_id
        credit.is_limit_pending = False
        credit.resolved_at = now
        self._unmark_pending(credit)
        month = _month_key(user, now)
        total, count = self._month_totals.get(month, (ZERO, 0))
        self._month_totals[month] = (total + credit.amount, count + 1)

    def _settle_refund(self, credit: SalesCredit, now: datetime) -> None:
        self.move(
            HOLD, credit.sub_wallet.account, credit.amount, order_id=credit.order_id, kind="refund", at=now
        )
        credit.status = CreditStatus.FAILURE
        credit.message = "REFUNDED_BACK"
        credit.resolved_at = now
        self._unmark_pending(credit)

    def resolve_pending(self) -> int:
        """Settle what the clock or the users allow, as of when it happened. The time since the
        last evaluation is replayed in order: each month boundary (midnight IST, limits reset) is
        an evaluation point of its own, a credit past its deadline is REFUNDED_BACK at the
        deadline, and a credit whose blocking reason is gone is credited (at the boundary, or
        now). User changes only happen at evaluations, so the outcome does not depend on how the
        clock was advanced. Oldest first, so limits apply in arrival order. Returns how many.

        The cost is that of what is due or changed, not of all that is pending: deadlines come
        off a heap, and only the credits of payees touched since the last evaluation (and, at a
        month boundary, those blocked by a monthly limit) are re-evaluated."""
        with self.lock:
            now = self.clock.now()
            settled = 0
            at = max(self._evaluated_at, self._oldest_pending_created() or now)
            while self._pending:
                boundary = _next_month_start(at)
                if boundary > now:
                    break
                settled += self._refund_due(boundary)
                settled += self._release(boundary, new_month=True)
                at = boundary
            settled += self._refund_due(now)
            settled += self._release(now, new_month=False)
            self._evaluated_at = max(self._evaluated_at, now)
            return settled

    def _oldest_pending_created(self) -> datetime | None:
        while self._created and self._created[0][2] not in self._pending:
            heapq.heappop(self._created)
        return self._created[0][0] if self._created else None

    def _refund_due(self, until: datetime) -> int:
        """REFUNDED_BACK, each at its own deadline (ties in arrival order), every pending credit
        due by `until`."""
        refunded = 0
        while self._deadlines and self._deadlines[0][0] <= until:
            deadline, _, order_id = heapq.heappop(self._deadlines)
            credit = self._pending.get(order_id)
            if credit is not None:
                self._settle_refund(credit, deadline)
                refunded += 1
        return refunded

    def _release(self, at: datetime, *, new_month: bool) -> int:
        """Credit every pending credit no longer blocked at `at`; re-label the others with their
        current blocking reason (code and isLimitPending).

        Evaluated, oldest first: the credits of the payees touched since the last evaluation,
        at a month boundary those blocked by a monthly limit, and — as a credit is credited to a
        user, which changes that user's balance and month totals — the younger credits of the
        same user (the older ones were already evaluated in this pass and are left for the
        next one, exactly as a pass over every pending credit in arrival order would)."""
        touched, self._dirty = self._dirty, set()
        queue: list[tuple[int, str]] = []
        queued: set[int] = set()

        def enqueue(credit: SalesCredit) -> None:
            if credit.pending_seq not in queued:
                queued.add(credit.pending_seq)
                queue.append((credit.pending_seq, credit.order_id))

        # key -> from which pending_seq on its credits are queued in this pass (-1: all of them)
        covered: dict[PayeeKey, int] = {}
        for key in touched:
            covered[key] = -1
            for same_payee in self._by_payee.get(key, {}).values():
                enqueue(same_payee)
        if new_month:
            for monthly in self._monthly.values():
                enqueue(monthly)
        heapq.heapify(queue)
        settled = 0
        while queue:
            seq, order_id = heapq.heappop(queue)
            credit = self._pending.get(order_id)
            if credit is None:
                continue
            self.pending_evaluations += 1
            blocked = self._blocking_reason(credit, at)
            if blocked is None:
                user = self.find_user(credit.payee_kind, credit.payee)
                assert user is not None
                self._settle_success(credit, user, at)
                settled += 1
                for key in _user_keys(user):
                    if covered.get(key, seq) < seq:
                        continue  # its younger credits are queued already
                    covered[key] = seq
                    for other in self._by_payee.get(key, {}).values():
                        if other.pending_seq > seq and other.pending_seq not in queued:
                            queued.add(other.pending_seq)
                            heapq.heappush(queue, (other.pending_seq, other.order_id))
            else:
                credit.code, credit.is_limit_pending, _ = blocked
                if credit.code in MONTHLY_LIMIT_CODES:
                    self._monthly[seq] = credit
                else:
                    self._monthly.pop(seq, None)
        return settled

    def force_resolve(self, order_id: str, outcome: str) -> SalesCredit:
        """Control API: settle a PENDING credit now, as SUCCESS or REFUNDED_BACK."""
        with self.lock:
            self.resolve_pending()
            credit = self.credits.get(order_id)
            if credit is None or credit.status != CreditStatus.PENDING:
                raise KeyError(order_id)
            now = self.clock.now()
            if outcome == "SUCCESS":
                user = self.find_user(credit.payee_kind, credit.payee)
                if user is None or not user.wallet_exists:
                    raise ValueError("the payee has no wallet to credit")
                self._settle_success(credit, user, now)
            elif outcome == "REFUNDED_BACK":
                self._settle_refund(credit, now)
            else:
                raise ValueError(f"unknown outcome {outcome!r}")
            return credit

    def find_credit(self, request_type: str, txn_id: str) -> SalesCredit | None:
        with self.lock:
            self.resolve_pending()
            if request_type == "merchanttxnid":
                return self.credits.get(txn_id)
            if request_type == "wallettxnid":
                return self.credits_by_txn.get(txn_id)
            return None

    # -- checks --------------------------------------------------------------------------------

    def conservation(self) -> dict[str, Any]:
        """Replay the ledger: balances match, only `external` is negative, the total equals the
        initial funding plus what came in from outside, held money equals the pending credits,
        and no order was credited to a user twice or settled both ways."""
        with self.lock:
            replayed: dict[str, Decimal] = {}
            initial = ZERO
            external_in = ZERO
            problems: list[str] = []
            credits_per_order: dict[str, int] = {}
            refunds_per_order: dict[str, int] = {}
            for entry in self.ledger:
                replayed[entry.source] = replayed.get(entry.source, ZERO) - entry.amount
                replayed[entry.target] = replayed.get(entry.target, ZERO) + entry.amount
                if entry.source == EXTERNAL:
                    if entry.kind == "initial":
                        initial += entry.amount
                    else:
                        external_in += entry.amount
                if entry.target == EXTERNAL:
                    external_in -= entry.amount
                if entry.order_id is not None and entry.source == HOLD:
                    if entry.target.startswith("user:"):
                        credits_per_order[entry.order_id] = credits_per_order.get(entry.order_id, 0) + 1
                    else:
                        refunds_per_order[entry.order_id] = refunds_per_order.get(entry.order_id, 0) + 1
            for account in set(replayed) | set(self.balances):
                if replayed.get(account, ZERO) != self.balances.get(account, ZERO):
                    problems.append(
                        f"{account}: ledger says {replayed.get(account)}, balance says "
                        f"{self.balances.get(account)}"
                    )
                if account != EXTERNAL and self.balances.get(account, ZERO) < 0:
                    problems.append(f"{account} is negative")
            inside = sum((v for k, v in self.balances.items() if k != EXTERNAL), ZERO)
            if inside != initial + external_in:
                problems.append(f"total {inside} != initial {initial} + external {external_in}")
            pending_total = sum(
                (c.amount for c in self.credits.values() if c.status == CreditStatus.PENDING), ZERO
            )
            held = self.balances.get(HOLD, ZERO)
            if held != pending_total:
                problems.append(f"held {held} != pending credits {pending_total}")
            for order_id, count in credits_per_order.items():
                if count > 1:
                    problems.append(f"order {order_id} credited {count} times")
                if refunds_per_order.get(order_id):
                    problems.append(f"order {order_id} both credited and refunded")
            for order_id, count in refunds_per_order.items():
                if count > 1:
                    problems.append(f"order {order_id} refunded {count} times")
            for credit in self.credits.values():
                settled = credits_per_order.get(credit.order_id, 0) + refunds_per_order.get(
                    credit.order_id, 0
                )
                expected = 0 if credit.status == CreditStatus.PENDING else 1
                if settled != expected:
                    problems.append(f"order {credit.order_id} is {credit.status.name} but settled {settled}x")
            for check in self.invariants:
                problems.extend(check())
            return {
                "ok": not problems,
                "problems": problems,
                "initial": initial,
                "externalNet": external_in,
                "total": inside,
                "held": held,
                "ledgerEntries": len(self.ledger),
            }


def _verification_gap(user: User, apply_verified_user: str | None) -> str | None:
    """The STUC_101x code when the user lacks the verification `applyVerifiedUser` asks for."""
    if apply_verified_user == "1" and not user.mobile_verified:
        return "STUC_1010"
    email_verified = user.has_verified_email
    if apply_verified_user == "2" and not email_verified:
        return "STUC_1011"
    if apply_verified_user == "3":
        if not user.mobile_verified and not email_verified:
            return "STUC_1012"
        if not user.mobile_verified:
            return "STUC_1010"
        if not email_verified:
            return "STUC_1011"
    return None


def _payee_key(kind: PayeeKind, value: str) -> PayeeKey:
    """The key `find_user` finds a payee by (emails are compared lower-cased)."""
    return (kind, value.lower() if kind == "email" else value)


def _user_keys(user: User) -> list[PayeeKey]:
    """Every payee key that can find this user."""
    keys: list[PayeeKey] = [("ssoId", user.sso_id)]
    if user.phone:
        keys.append(("phone", user.phone))
    if user.email:
        keys.append(("email", user.email.lower()))
    return keys


def _month_key(user: User, at: datetime) -> tuple[str, int, int]:
    local = at.astimezone(IST)
    return user.sso_id, local.year, local.month


def _next_month_start(at: datetime) -> datetime:
    """The first midnight IST of the month after the (IST) month of `at`."""
    local = at.astimezone(IST)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=IST)
