"""Bank-project financing (融项通): matching needs to banks, the desensitized view banks get,
interest and owner consent, and credit totals.

What a bank may see is decided here, once: ``NeedRecord.public()`` copies the fields a bank
may read into a ``PublicNeed`` (city, industries, stage, amount band, term, purpose and
collateral categories), and matching works on that copy, so neither a score nor a reason can
carry the owner's identity, contact or exact amount. The identity (``Disclosure``) is given to a
bank only after the owner consented to that bank's interest.

Score (0-100): industry 30, region 30, amount 25, term 15, each earned when the need fits the
bank's stated preference (an empty industry or region list accepts any). The amount criterion
compares the need's *band* with the bank's range, so a bank cannot narrow an amount down by
tuning its preference. A bank is matched when the score reaches ``MATCH_THRESHOLD``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from graph_schema.errors import Forbidden, InvalidInput, NotFound
from graph_schema.model import SPECS
from graph_schema.statements import chains as chain_statements
from graph_schema.statements import financing as fs
from graph_schema.statements.entities import existing_keys
from graph_schema.store import GraphStore, Row
from hub.batch import ItemOutcome, problems_of, rejected

# Band edges in 万元: <500, 500-1000, 1000-5000, 5000-10000 (1亿), 1-5亿, ≥5亿.
BAND_EDGES: Final = (0.0, 500.0, 1000.0, 5000.0, 10000.0, 50000.0)
MATCH_THRESHOLD: Final = 60
_PROJECT_EXISTS: Final = existing_keys(SPECS["project"])


class Criterion(StrEnum):
    INDUSTRY = "industry"
    REGION = "region"
    AMOUNT = "amount"
    TERM = "term"


WEIGHTS: Final = {
    Criterion.INDUSTRY: 30,
    Criterion.REGION: 30,
    Criterion.AMOUNT: 25,
    Criterion.TERM: 15,
}


class Consent(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Band:
    low: float
    high: float | None  # exclusive; None: no upper edge

    @property
    def label(self) -> str:
        if self.high is None:
            return f"{self.low:g}万元以上"
        return f"{self.low:g}-{self.high:g}万元"


def band_of(amount: float) -> Band:
    edges = BAND_EDGES
    for low, high in itertools.pairwise(edges):
        if amount < high:
            return Band(low, high)
    return Band(edges[-1], None)


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PublicNeed:
    """Everything a bank may see of a need before consent."""

    id: str
    city: Place | None
    chains: tuple[str, ...]
    stage: str | None
    band: Band
    term_months: int
    purpose: str
    collateral: str
    submitted_month: str  # YYYY-MM
    within: tuple[str, ...]  # region codes from the project's region up (for matching only)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The owner's identity and the exact need, for a bank the owner consented to."""

    project_code: str
    project_name: str
    owner_uscc: str | None
    owner_name: str | None
    contact_name: str
    contact_phone: str
    amount: float
    note: str | None


@dataclass(frozen=True, slots=True)
class NeedRecord:
    """A need as stored, with its project's facts. Never handed to a bank as it is."""

    id: str
    project_code: str
    project_name: str
    props: Mapping[str, Any]
    region_code: str | None
    stage: str | None
    chains: tuple[str, ...]
    owner_uscc: str | None
    owner_name: str | None

    def public(self, regions: RegionTree) -> PublicNeed:
        p = self.props
        return PublicNeed(
            id=self.id,
            city=regions.city_of(self.region_code),
            chains=self.chains,
            stage=self.stage,
            band=band_of(float(p["amount"])),
            term_months=int(p["term_months"]),
            purpose=str(p["purpose"]),
            collateral=str(p["collateral"]),
            submitted_month=str(p["submitted_on"])[:7],
            within=regions.up(self.region_code),
        )

    def disclosure(self) -> Disclosure:
        p = self.props
        return Disclosure(
            project_code=self.project_code,
            project_name=self.project_name,
            owner_uscc=self.owner_uscc,
            owner_name=self.owner_name,
            contact_name=str(p["contact_name"]),
            contact_phone=str(p["contact_phone"]),
            amount=float(p["amount"]),
            note=p.get("note"),
        )


class RegionTree:
    """Names, levels and parents of every region, for city-level places and matching."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = {r["code"]: r for r in rows}

    def up(self, code: str | None) -> tuple[str, ...]:
        out: list[str] = []
        while code is not None and code in self._rows and len(out) < 5:
            out.append(code)
            code = self._rows[code].get("parent")
        return tuple(out)

    def city_of(self, code: str | None) -> Place | None:
        for c in self.up(code):
            row = self._rows[c]
            if row.get("level") in ("city", "province"):
                return Place(c, str(row["name"]))
        return None

    def level_of(self, code: str, level: str) -> str | None:
        for c in self.up(code):
            if self._rows[c].get("level") == level:
                return c
        return None

    def name(self, code: str) -> str:
        row = self._rows.get(code)
        return str(row["name"]) if row else code


async def region_tree(store: GraphStore) -> RegionTree:
    return RegionTree(await store.run(chain_statements.REGIONS))


@dataclass(frozen=True, slots=True)
class Reason:
    criterion: Criterion
    met: bool
    points: int
    detail: str


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    reasons: tuple[Reason, ...]

    def to_json(self) -> str:
        return json.dumps(
            [[r.criterion.value, r.met, r.points, r.detail] for r in self.reasons],
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, score: int, text: str) -> Score:
        reasons = tuple(
            Reason(Criterion(c), bool(m), int(p), str(d)) for c, m, p, d in json.loads(text)
        )
        return cls(score, reasons)


def score(need: PublicNeed, pref: fs.FinancingPreference) -> Score:
    """How well a need fits a bank's preference; see the module docstring."""
    reasons: list[Reason] = []

    def add(criterion: Criterion, met: bool, detail: str) -> None:
        reasons.append(Reason(criterion, met, WEIGHTS[criterion] if met else 0, detail))

    chains = sorted(set(need.chains))
    if not pref.chain_ids:
        add(Criterion.INDUSTRY, True, "any industry accepted")
    else:
        common = sorted(set(chains) & set(pref.chain_ids))
        if common:
            add(Criterion.INDUSTRY, True, f"industry {', '.join(common)} is preferred")
        else:
            shown = ", ".join(chains) or "unknown"
            add(Criterion.INDUSTRY, False, f"industry {shown} is not among the preferred")
    if not pref.region_codes:
        add(Criterion.REGION, True, "any region accepted")
    else:
        inside = [c for c in pref.region_codes if c in need.within]
        city = need.city.code if need.city else "unknown"
        if inside:
            add(Criterion.REGION, True, f"city {city} is within preferred region {inside[0]}")
        else:
            add(Criterion.REGION, False, f"city {city} is outside the preferred regions")
    band = need.band
    fits = band.low <= pref.amount_max and (band.high is None or band.high > pref.amount_min)
    limits = f"{pref.amount_min:g}-{pref.amount_max:g}万元"
    if fits:
        add(Criterion.AMOUNT, True, f"amount band {band.label} overlaps {limits}")
    else:
        add(Criterion.AMOUNT, False, f"amount band {band.label} is outside {limits}")
    if need.term_months <= pref.term_max_months:
        add(Criterion.TERM, True, f"term {need.term_months} months within {pref.term_max_months}")
    else:
        add(Criterion.TERM, False, f"term {need.term_months} months exceeds {pref.term_max_months}")
    return Score(sum(r.points for r in reasons), tuple(reasons))


# --- reading needs ------------------------------------------------------------------------------


def _record(row: Row) -> NeedRecord:
    need = row["need"]
    return NeedRecord(
        id=str(need["id"]),
        project_code=str(row["project_code"]),
        project_name=str(row.get("project_name") or ""),
        props=need,
        region_code=row.get("region_code"),
        stage=row.get("stage"),
        chains=tuple(sorted(set(row.get("chains") or []))),
        owner_uscc=row.get("owner_uscc"),
        owner_name=row.get("owner_name"),
    )


async def needs(store: GraphStore, ids: Sequence[str] | None = None) -> list[NeedRecord]:
    """Needs by id (all when ``ids`` is None), in id order."""
    if ids is None:
        rows = await store.run(fs.ALL_NEEDS)
    else:
        rows = await store.run(fs.NEEDS_BY_ID, {"ids": list(ids)})
    return sorted((_record(r) for r in rows), key=lambda n: n.id)


async def preferences(store: GraphStore) -> dict[str, fs.FinancingPreference]:
    rows = await store.run(fs.PREFERENCES)
    out = {}
    for row in rows:
        props = {
            k: v for k, v in row["preference"].items() if k in fs.FinancingPreference.model_fields
        }
        out[row["bank"]] = fs.FinancingPreference.model_validate(props)
    return out


# --- writing needs and preferences, and matching --------------------------------------------


def new_need_id() -> str:
    return "fn-" + secrets.token_hex(8)


async def submit_needs(
    store: GraphStore, items: Sequence[Mapping[str, Any]], now: dt.datetime
) -> list[ItemOutcome]:
    """Validate, store and match needs; each item succeeds or fails on its own. A need keeps
    its project: resubmitting an id under another project is refused."""
    outcomes: list[ItemOutcome] = []
    valid: list[tuple[int, fs.FinancingNeed]] = []
    for i, raw in enumerate(items):
        data = dict(raw)
        if not data.get("id"):
            data["id"] = new_need_id()
        try:
            valid.append((i, fs.FinancingNeed.model_validate(data)))
        except ValidationError as exc:
            outcomes.append(ItemOutcome(i, data.get("id"), problems_of(exc)))
    if valid:
        codes = sorted({n.project_code for _, n in valid})
        found = {r["key"] for r in await store.run(_PROJECT_EXISTS, {"keys": codes})}
        owners = {
            r["id"]: r["project_code"]
            for r in await store.run(fs.NEED_PROJECT, {"ids": [n.id for _, n in valid]})
        }
        rows: list[dict[str, Any]] = []
        for i, need in valid:
            if need.project_code not in found:
                message = f"no project {need.project_code}"
                outcomes.append(rejected(i, need.id, "project_code", message, "NOT_FOUND"))
            elif owners.get(need.id, need.project_code) != need.project_code:
                message = "this need belongs to another project"
                outcomes.append(rejected(i, need.id, "id", message, "BAD_USER_INPUT"))
            else:
                props = need.model_dump(mode="json", exclude={"project_code"})
                rows.append({"id": need.id, "project_code": need.project_code, "props": props})
                outcomes.append(ItemOutcome(i, need.id))
        if rows:
            await store.run(fs.UPSERT_NEEDS, {"rows": rows})
            await rematch(store, now, need_ids=[str(r["id"]) for r in rows])
    return sorted(outcomes, key=lambda o: o.index)


async def set_preference(
    store: GraphStore, raw: Mapping[str, Any], now: dt.datetime
) -> fs.FinancingPreference:
    try:
        pref = fs.FinancingPreference.model_validate(dict(raw))
    except ValidationError as exc:
        raise InvalidInput("; ".join(str(p) for p in problems_of(exc))) from None
    props = pref.model_dump(mode="json", exclude={"bank_id"})
    rows = await store.run(fs.SET_PREFERENCE, {"bank": pref.bank_id, "props": props})
    if not rows:
        raise NotFound(f"no bank {pref.bank_id}")
    await rematch(store, now, bank_ids=[pref.bank_id])
    return pref


async def rematch(
    store: GraphStore,
    now: dt.datetime,
    *,
    need_ids: Sequence[str] | None = None,
    bank_ids: Sequence[str] | None = None,
) -> int:
    """Recompute the matches of the given needs (or all) with the given banks (or all).
    Matches a bank has acted on (interest shown) are kept as they are."""
    prefs = await preferences(store)
    if bank_ids is not None:
        prefs = {b: p for b, p in prefs.items() if b in set(bank_ids)}
    records = await needs(store, need_ids)
    regions = await region_tree(store)
    rows = []
    for record in records:
        public = record.public(regions)
        for bank, pref in prefs.items():
            result = score(public, pref)
            if result.total >= MATCH_THRESHOLD:
                rows.append(
                    {
                        "need": record.id,
                        "bank": bank,
                        "score": result.total,
                        "reasons": result.to_json(),
                        "at": now.isoformat(timespec="seconds"),
                    }
                )
    banks = list(prefs) if bank_ids is None else list(bank_ids)
    await store.run(fs.CLEAR_MATCHES, {"needs": [r.id for r in records], "banks": banks})
    if rows:
        await store.run(fs.WRITE_MATCHES, {"rows": rows})
    return len(rows)


# --- the bank's side ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchState:
    score: Score
    interest_at: str | None
    consent: Consent | None
    responded_at: str | None

    @classmethod
    def of(cls, props: Mapping[str, Any]) -> MatchState:
        consent = props.get("consent")
        if props.get("interest_at") is not None and consent is None:
            consent = Consent.PENDING.value
        return cls(
            score=Score.from_json(int(props["score"]), str(props.get("reasons") or "[]")),
            interest_at=props.get("interest_at"),
            consent=Consent(consent) if consent is not None else None,
            responded_at=props.get("responded_at"),
        )


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A need as one bank sees it: the public facts and its own match."""

    bank: str
    need: PublicNeed
    match: MatchState


async def opportunities(store: GraphStore, bank: str) -> list[Opportunity]:
    """The needs matched to ``bank``, best score first."""
    rows = await store.run(fs.BANK_MATCHES, {"bank": bank})
    states = {r["need"]: MatchState.of(r["match"]) for r in rows}
    records = await needs(store, list(states))
    regions = await region_tree(store)
    found = [Opportunity(bank, r.public(regions), states[r.id]) for r in records]
    return sorted(found, key=lambda o: (-o.match.score.total, o.need.id))


async def opportunity(store: GraphStore, bank: str, need: str) -> Opportunity | None:
    rows = await store.run(fs.MATCH_OF, {"need": need, "bank": bank})
    if not rows:
        return None
    records = await needs(store, [need])
    if not records:
        return None
    regions = await region_tree(store)
    return Opportunity(bank, records[0].public(regions), MatchState.of(rows[0]["match"]))


async def express_interest(
    store: GraphStore, bank: str, need: str, now: dt.datetime
) -> Opportunity:
    rows = await store.run(
        fs.EXPRESS_INTEREST,
        {"need": need, "bank": bank, "at": now.isoformat(timespec="seconds")},
    )
    if not rows:
        raise NotFound(f"need {need} is not matched to bank {bank}")
    found = await opportunity(store, bank, need)
    assert found is not None
    return found


async def respond(
    store: GraphStore, need: str, bank: str, consent: bool, now: dt.datetime
) -> MatchState:
    """The owner's answer to a bank's interest (granted reveals the identity to that bank)."""
    answer = Consent.GRANTED if consent else Consent.DECLINED
    rows = await store.run(
        fs.RESPOND,
        {
            "need": need,
            "bank": bank,
            "consent": answer.value,
            "at": now.isoformat(timespec="seconds"),
        },
    )
    if not rows:
        raise NotFound(f"bank {bank} has not expressed interest in need {need}")
    return MatchState.of(rows[0]["match"])


async def consented(store: GraphStore, bank: str, need: str) -> bool:
    rows = await store.run(fs.MATCH_OF, {"need": need, "bank": bank})
    return bool(rows) and rows[0]["match"].get("consent") == Consent.GRANTED.value


async def disclosure(
    store: GraphStore, bank: str, need: str, now: dt.datetime
) -> Disclosure | None:
    """The identity behind a need, or None unless its owner consented to this bank. Each
    disclosure is counted on the match (first time and number), as the audit trail."""
    if not await consented(store, bank, need):
        return None
    records = await needs(store, [need])
    if not records:
        return None
    at = now.isoformat(timespec="seconds")
    await store.run(fs.RECORD_DISCLOSURE, {"need": need, "bank": bank, "at": at})
    return records[0].disclosure()


# --- credit -------------------------------------------------------------------------------------


async def record_credit(
    store: GraphStore,
    items: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    as_bank: str | None = None,
) -> list[ItemOutcome]:
    """Record credit granted and disbursed. A bank (``as_bank``) may record only its own
    credit, and only on needs whose owner consented to it."""
    outcomes: list[ItemOutcome] = []
    rows = []
    for i, raw in enumerate(items):
        try:
            credit = fs.Credit.model_validate(dict(raw))
        except ValidationError as exc:
            outcomes.append(ItemOutcome(i, raw.get("need_id"), problems_of(exc)))
            continue
        if as_bank is not None and credit.bank_id != as_bank:
            message = "a bank records only its own credit"
            outcomes.append(rejected(i, credit.need_id, "bank_id", message, "FORBIDDEN"))
            continue
        if as_bank is not None and not await consented(store, as_bank, credit.need_id):
            message = "the owner has not consented to this bank"
            outcomes.append(rejected(i, credit.need_id, "need_id", message, "FORBIDDEN"))
            continue
        rows.append((i, credit))
    if rows:
        written = await store.run(
            fs.RECORD_CREDIT,
            {
                "rows": [
                    {**c.model_dump(mode="json"), "at": now.isoformat(timespec="seconds")}
                    for _, c in rows
                ]
            },
        )
        done = {(r["need"], r["bank"]) for r in written}
        for i, credit in rows:
            if (credit.need_id, credit.bank_id) in done:
                outcomes.append(ItemOutcome(i, credit.need_id))
            else:
                message = f"no need {credit.need_id} or no bank {credit.bank_id}"
                outcomes.append(rejected(i, credit.need_id, "need_id", message, "NOT_FOUND"))
    return sorted(outcomes, key=lambda o: o.index)


@dataclass(frozen=True, slots=True)
class CreditTotal:
    key: str
    name: str
    granted: float
    disbursed: float
    loans: int


# Small-cell suppression, as statistics offices do: a total over fewer loans than this would
# give away single loans' amounts (a county with one loan showed that loan exactly).
MIN_CELL_LOANS = 3
SUPPRESSED = "suppressed"


def suppress_small_cells(rows: list[CreditTotal]) -> list[CreditTotal]:
    """Cells of fewer than ``MIN_CELL_LOANS`` loans leave the table; together they make one
    ``suppressed`` row when that row has enough loans itself (else they are dropped, since
    even their sum would reveal too much)."""
    kept = [r for r in rows if r.loans >= MIN_CELL_LOANS]
    small = [r for r in rows if r.loans < MIN_CELL_LOANS]
    loans = sum(r.loans for r in small)
    if small and loans >= MIN_CELL_LOANS:
        granted = round(sum(r.granted for r in small), 6)
        disbursed = round(sum(r.disbursed for r in small), 6)
        kept.append(
            CreditTotal(SUPPRESSED, f"{len(small)} groups of under {MIN_CELL_LOANS} loans",
                        granted, disbursed, loans)
        )  # fmt: skip
    return kept


async def credit_totals(
    store: GraphStore, by: str, *, level: str = "city", bank: str | None = None
) -> list[CreditTotal]:
    """Credit granted and disbursed (万元), by bank or by region at ``level`` (province, city
    or county); only ``bank``'s own lending when given. Small cells are the caller's to
    suppress (``suppress_small_cells``): a bank sees its own lending whole."""
    rows = await store.run(fs.CREDIT_ROWS)
    if bank is not None:
        rows = [r for r in rows if r["bank"] == bank]
    regions = await region_tree(store) if by == "region" else None
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    names: dict[str, str] = {}
    for row in rows:
        if regions is None:
            key, names[row["bank"]] = row["bank"], str(row["bank_name"])
        else:
            found = regions.level_of(row["region"], level) if row["region"] else None
            key = found or "unknown"
            names[key] = regions.name(key) if found else "unknown"
        total = sums[key]
        total[0] += float(row["granted"] or 0)
        total[1] += float(row["disbursed"] or 0)
        total[2] += int(row["loans"] or 0)
    return [
        CreditTotal(k, names[k], round(v[0], 6), round(v[1], 6), int(v[2]))
        for k, v in sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]


def require_bank(subject: str | None) -> str:
    """The calling bank's id; a bank-role caller without one may not use bank fields."""
    if not subject:
        raise Forbidden("the bank role needs a bank id (subject)")
    return subject
