"""GraphQL for bank-project financing (融项通).

The bank role reaches only the fields ``access.ROOT_FIELDS[Role.BANK]`` lists; every type
reachable from them is desensitized (``FinancingOpportunity`` and below) except
``FinancingDisclosure``, which resolves to null until the owner consented to the calling bank.
Operators (acting for owners until owners get a role of their own) submit needs and record
consent; they read the full needs through ``financingNeeds``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry.types import Info

from graph_schema.errors import Forbidden, InvalidInput
from graph_schema.statements import financing as fs
from hub.api import lists
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.enums import ProjectStage, RegionLevel, SortDirection
from hub.api.inputs import _NOT, _OR
from hub.api.logic import matching
from hub.api.pages import BatchResult, ListPage, check_batch, linked, sort_items
from hub.api.paging import args as page_args
from hub.api.paging import decode_global_id, key_of
from hub.api.relay import After, Before, First, Last, Node, NodeLookup
from hub.api.scalars import Period
from hub.clock import clock_of
from hub.projects import financing as fin
from hub.roles import Role

if TYPE_CHECKING:
    from hub.api.entities.bank import Bank
    from hub.api.entities.project import Project

Ctx = Info[Context, None]
ProjectRef = Annotated["Project", strawberry.lazy("hub.api.entities.project")]
BankRef = Annotated["Bank", strawberry.lazy("hub.api.entities.bank")]
BANK_OR_WRITERS = frozenset({Role.BANK, *WRITERS})
BANK_ONLY = frozenset({Role.BANK})


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


_NEED_TYPES: Final = ("FinancingNeed", "FinancingOpportunity")


def need_key(value: str) -> str:
    """The need an argument names: the id of the need or of an opportunity on it (a bank holds
    the latter), or, for one release, the bare need id (``needId``)."""
    try:
        type_name, key = decode_global_id(value)
    except InvalidInput:
        return value
    return key if type_name in _NEED_TYPES else key_of(value, "FinancingNeed")


def _one(global_id: str | None, key: str | None, names: tuple[str, str]) -> str:
    """The value of whichever of an object's global-id argument (typed ID) and its key
    argument (String) was given: exactly one of them."""
    if (global_id is None) == (key is None):
        raise InvalidInput(f"pass either {names[0]} or {names[1]}, exactly one")
    return global_id if global_id is not None else key or ""


def _lenient(value: str, key: Any) -> str:
    # Inside a batch a wrong id must not fail the other items: it is kept as given, and the
    # item is rejected as naming nothing that exists.
    try:
        return str(key(value))
    except InvalidInput:
        return value


def _instant(text: str | None) -> dt.datetime | None:
    # Stored with the request clock's offset; the API answers in UTC (hub.api.scalars).
    return None if text is None else dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@strawberry.enum(description="What the financing is for.")
class FinancingPurpose(Enum):
    FIXED_ASSETS = strawberry.enum_value("fixed_assets", description="固定资产贷款.")
    WORKING_CAPITAL = strawberry.enum_value("working_capital", description="流动资金.")
    EQUIPMENT = strawberry.enum_value("equipment", description="设备购置.")
    LAND = strawberry.enum_value("land", description="土地款.")
    REFINANCING = strawberry.enum_value("refinancing", description="置换/再融资.")
    OTHER = strawberry.enum_value("other", description="Other.")


@strawberry.enum(description="What secures the financing.")
class FinancingCollateral(Enum):
    CREDIT = strawberry.enum_value("credit", description="信用: unsecured.")
    LAND_USE_RIGHT = strawberry.enum_value("land_use_right", description="土地使用权抵押.")
    PROPERTY = strawberry.enum_value("property", description="房产抵押.")
    EQUIPMENT = strawberry.enum_value("equipment", description="设备抵押.")
    RECEIVABLES = strawberry.enum_value("receivables", description="应收账款质押.")
    GUARANTEE = strawberry.enum_value("guarantee", description="担保.")
    EQUITY = strawberry.enum_value("equity", description="股权质押.")


@strawberry.enum(description="A matching criterion.")
class MatchCriterion(Enum):
    INDUSTRY = strawberry.enum_value("industry", description="The project's industry chain.")
    REGION = strawberry.enum_value("region", description="Where the project is.")
    AMOUNT = strawberry.enum_value("amount", description="The amount band.")
    TERM = strawberry.enum_value("term", description="The term in months.")


@strawberry.enum(description="The owner's answer to a bank's interest.")
class FinancingConsent(Enum):
    PENDING = strawberry.enum_value("pending", description="Not answered yet.")
    GRANTED = strawberry.enum_value("granted", description="Identity revealed to the bank.")
    DECLINED = strawberry.enum_value("declined", description="The owner declined.")


@strawberry.enum(description="How credit totals are grouped.")
class CreditGrouping(Enum):
    BANK = strawberry.enum_value("bank", description="One row per bank.")
    REGION = strawberry.enum_value("region", description="One row per region at regionLevel.")


@strawberry.type(description="A range of amounts in 万元; max is exclusive, null for the top band.")
class AmountBand:
    label: str = strawberry.field(description="e.g. 1000-5000万元.")
    min: float = strawberry.field(description="Lower edge, 万元.")
    max: float | None = strawberry.field(description="Upper edge (exclusive), 万元.")


@strawberry.type(description="A city (or province), by code and name only.")
class FinancingPlace:
    code: str = strawberry.field(description="GB/T 2260 code.")
    name: str = strawberry.field(description="Name.")


@strawberry.type(description="One criterion of a match score.")
class MatchReason:
    criterion: MatchCriterion = strawberry.field(description="Which criterion.")
    met: bool = strawberry.field(description="The need fits the bank's preference on it.")
    points: int = strawberry.field(description="Points earned (weight when met, else 0).")
    detail: str = strawberry.field(description="Why, in plain words.")


@strawberry.type(description="A bank's interest in a need and the owner's answer.")
class FinancingInterest:
    expressed_at: dt.datetime | None = strawberry.field(
        description="When the bank showed interest."
    )
    consent: FinancingConsent | None = strawberry.field(
        description="The owner's answer; null before any interest."
    )
    responded_at: dt.datetime | None = strawberry.field(description="When the owner answered.")


@strawberry.type(
    description="The owner's identity and the exact need, revealed to a bank only after the "
    "owner consented to that bank's interest. Amount in 万元."
)
class FinancingDisclosure:
    project_code: str = strawberry.field(description="National project code.")
    project_name: str = strawberry.field(description="Project name.")
    owner_uscc: str | None = strawberry.field(description="Owner's unified social credit code.")
    owner_name: str | None = strawberry.field(description="Owner's name.")
    contact_name: str = strawberry.field(description="Contact person.")
    contact_phone: str = strawberry.field(description="Contact phone.")
    amount: float = strawberry.field(description="Exact amount asked for, 万元.")
    note: str | None = strawberry.field(description="The owner's note.")


def _band(band: fin.Band) -> AmountBand:
    return AmountBand(label=band.label, min=band.low, max=band.high)


def _reasons(score: fin.Score) -> list[MatchReason]:
    return [
        MatchReason(
            criterion=MatchCriterion(r.criterion.value), met=r.met, points=r.points, detail=r.detail
        )
        for r in score.reasons
    ]


def _interest(state: fin.MatchState) -> FinancingInterest:
    return FinancingInterest(
        expressed_at=_instant(state.interest_at),
        consent=FinancingConsent(state.consent.value) if state.consent else None,
        responded_at=_instant(state.responded_at),
    )


@strawberry.type(
    description="A financing need as a matched bank sees it (desensitized): city, industries, "
    "stage, amount band, term, purpose and collateral; no owner, contact or exact amount. Its "
    "id is its own (not the need's, so a normalized cache keeps the two apart); "
    "financingOpportunity(id:) finds it again."
)
class FinancingOpportunity(Node):
    need_id: str = strawberry.field(
        description="The need's id, as needId arguments take it (they take this id too)."
    )
    city: FinancingPlace | None = strawberry.field(description="City of the project.")
    industries: list[str] = strawberry.field(description="Industry chain ids, e.g. nev.")
    stage: ProjectStage | None = strawberry.field(description="Project stage.")
    amount_band: AmountBand = strawberry.field(description="The amount, as a band.")
    term_months: int = strawberry.field(description="Term asked for, months.")
    purpose: FinancingPurpose = strawberry.field(description="What it is for.")
    collateral: FinancingCollateral = strawberry.field(description="What secures it.")
    submitted_month: Period = strawberry.field(description="Month submitted (a month period).")
    score: int = strawberry.field(description="Match score with the calling bank, 0-100.")
    reasons: list[MatchReason] = strawberry.field(description="The score, criterion by criterion.")
    interest: FinancingInterest = strawberry.field(description="This bank's interest and consent.")
    bank: strawberry.Private[str]

    def node_key(self) -> str:
        return self.need_id

    @strawberry.field(description="The owner's identity: null until the owner consented to you.")
    async def disclosure(self, info: Ctx) -> FinancingDisclosure | None:
        now = clock_of(info.context.extra)()
        found = await fin.disclosure(info.context.store, self.bank, self.need_id, now)
        if found is None:
            return None
        return FinancingDisclosure(
            project_code=found.project_code,
            project_name=found.project_name,
            owner_uscc=found.owner_uscc,
            owner_name=found.owner_name,
            contact_name=found.contact_name,
            contact_phone=found.contact_phone,
            amount=found.amount,
            note=found.note,
        )

    @classmethod
    def of(cls, o: fin.Opportunity) -> FinancingOpportunity:
        n = o.need
        return cls(
            need_id=n.id,
            city=FinancingPlace(code=n.city.code, name=n.city.name) if n.city else None,
            industries=list(n.chains),
            stage=ProjectStage(n.stage) if n.stage else None,
            amount_band=_band(n.band),
            term_months=n.term_months,
            purpose=FinancingPurpose(n.purpose),
            collateral=FinancingCollateral(n.collateral),
            submitted_month=Period(n.submitted_month),
            score=o.match.score.total,
            reasons=_reasons(o.match.score),
            interest=_interest(o.match),
            bank=o.bank,
        )


@strawberry.type(description="A page of financing opportunities, best score first.")
class FinancingOpportunityConnection(ListPage[FinancingOpportunity]):
    pass


@strawberry.input(description="Filters on a bank's opportunities; every one given must hold.")
class FinancingOpportunityWhere:
    industry: str | None = strawberry.field(default=None, description="Chain id, e.g. nev.")
    city: str | None = strawberry.field(default=None, description="City code.")
    stage: ProjectStage | None = strawberry.field(default=None, description="Project stage.")
    min_score: int | None = strawberry.field(default=None, description="Lowest score.")
    interested: bool | None = strawberry.field(
        default=None, description="Only those you showed interest in (true) or not (false)."
    )
    or_: list[FinancingOpportunityWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: FinancingOpportunityWhere | None = strawberry.field(
        default=None, name="NOT", description=_NOT
    )


@strawberry.enum(description="Fields a bank's opportunities sort on.")
class FinancingOpportunitySortField(Enum):
    SCORE = strawberry.enum_value("score", description="Match score.")
    TERM_MONTHS = strawberry.enum_value("term_months", description="Term asked for.")
    AMOUNT = strawberry.enum_value("amount", description="Amount band (its lower edge).")
    SUBMITTED_MONTH = strawberry.enum_value("submitted_month", description="Month submitted.")


@strawberry.input(description="One sort key for a bank's opportunities.")
class FinancingOpportunitySort:
    field: FinancingOpportunitySortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (default) or descending."
    )


_OPPORTUNITY_FIELDS: Final = {
    FinancingOpportunitySortField.SCORE: lambda o: o.match.score.total,
    FinancingOpportunitySortField.TERM_MONTHS: lambda o: o.need.term_months,
    FinancingOpportunitySortField.AMOUNT: lambda o: o.need.band.low,
    FinancingOpportunitySortField.SUBMITTED_MONTH: lambda o: o.need.submitted_month,
}


def _keep(o: fin.Opportunity, where: FinancingOpportunityWhere) -> bool:
    n = o.need
    checks = (
        where.industry is None or key_of(where.industry, "IndustryChain") in n.chains,
        where.city is None or (n.city is not None and n.city.code == key_of(where.city, "Region")),
        where.stage is None or n.stage == str(where.stage.value),
        where.min_score is None or o.match.score.total >= where.min_score,
        where.interested is None or (o.match.interest_at is not None) == where.interested,
    )
    return all(checks)


@strawberry.type(description="A bank's stated financing preferences (empty lists: any).")
class FinancingPreference(Node):
    bank_id: str = strawberry.field(description="The bank.")
    chain_ids: list[str] = strawberry.field(description="Industry chains it lends to.")
    region_codes: list[str] = strawberry.field(description="Regions it lends in.")
    amount_min: float = strawberry.field(description="Smallest amount, 万元.")
    amount_max: float = strawberry.field(description="Largest amount, 万元.")
    term_max_months: int = strawberry.field(description="Longest term, months.")

    def node_key(self) -> str:
        return self.bank_id

    @classmethod
    def of(cls, p: Any) -> FinancingPreference:
        return cls(
            bank_id=p.bank_id,
            chain_ids=list(p.chain_ids),
            region_codes=list(p.region_codes),
            amount_min=p.amount_min,
            amount_max=p.amount_max,
            term_max_months=p.term_max_months,
        )


@strawberry.input(description="A bank's financing preferences (replaces the previous ones).")
class FinancingPreferenceInput:
    bank_id: str = strawberry.field(
        description="The bank (its id, or its global id); a bank caller may set only its own."
    )
    chain_ids: list[str] = strawberry.field(
        default_factory=list, description="Chain ids (or global ids)."
    )
    region_codes: list[str] = strawberry.field(
        default_factory=list, description="Region codes (or global ids)."
    )
    amount_min: float = strawberry.field(default=0, description="Smallest amount, 万元.")
    amount_max: float = strawberry.field(default=1e9, description="Largest amount, 万元.")
    term_max_months: int = strawberry.field(default=360, description="Longest term, months.")


@strawberry.type(description="Credit granted and disbursed, 万元.")
class CreditTotal:
    key: str = strawberry.field(description="Bank id or region code.")
    name: str = strawberry.field(description="Bank or region name.")
    granted: float = strawberry.field(description="Credit granted (授信), 万元.")
    disbursed: float = strawberry.field(description="Disbursed so far (放款), 万元.")
    loans: int = strawberry.field(description="Credit lines counted.")


@strawberry.input(description="A financing need an owner submits (through an operator).")
class FinancingNeedInput:
    project_code: str = strawberry.field(
        description="The project it is for: its code (or its global id)."
    )
    id: str | None = strawberry.field(
        default=None,
        description="Need to update (needId or global id); omitted: a new need with a new id.",
    )
    amount: float = strawberry.field(description="Amount, 万元.")
    term_months: int = strawberry.field(description="Term, months.")
    purpose: FinancingPurpose = strawberry.field(description="What it is for.")
    collateral: FinancingCollateral = strawberry.field(description="What secures it.")
    contact_name: str = strawberry.field(description="Contact person (shown only after consent).")
    contact_phone: str = strawberry.field(description="Contact phone (only after consent).")
    note: str | None = strawberry.field(default=None, description="Note (only after consent).")
    submitted_on: dt.date | None = strawberry.field(
        default=None, description="Date submitted (default today)."
    )


@strawberry.input(description="Credit granted against one need.")
class CreditInput:
    need_id: str = strawberry.field(
        description="The need: its needId, or the global id of the need or of an opportunity."
    )
    bank_id: str = strawberry.field(description="The lending bank (its id or global id).")
    granted: float = strawberry.field(description="Credit granted, 万元.")
    disbursed: float = strawberry.field(default=0, description="Disbursed so far, 万元.")
    granted_on: dt.date = strawberry.field(description="Date granted.")


@strawberry.type(description="A bank matched to a need, as operators see it.")
class FinancingMatch:
    bank_id: str = strawberry.field(description="The bank's id.")
    bank_name: str = strawberry.field(description="Its name.")
    score: int = strawberry.field(description="Match score, 0-100.")
    reasons: list[MatchReason] = strawberry.field(description="Criterion by criterion.")
    interest: FinancingInterest = strawberry.field(description="Interest and consent.")
    first_disclosed_at: dt.datetime | None = strawberry.field(
        description="When the bank first read the owner's identity (audit)."
    )
    disclosures: int = strawberry.field(description="How often it read it (audit).")

    @strawberry.field(description="The bank.")
    async def bank(self, info: Ctx) -> BankRef:
        found = await lists.by_key(info, "bank", self.bank_id, object)
        assert found is not None  # the match was read with the bank a moment ago
        return cast("Bank", found)


@strawberry.type(description="A financing need in full (operators only: holds the contact).")
class FinancingNeed(Node):
    need_id: str = strawberry.field(description="The need's own key (needId arguments take it).")
    project_code: str = strawberry.field(description="The project's code.")
    amount: float = strawberry.field(description="Amount, 万元.")
    amount_band: AmountBand = strawberry.field(description="The band banks see.")
    term_months: int = strawberry.field(description="Term, months.")
    purpose: FinancingPurpose = strawberry.field(description="Purpose.")
    collateral: FinancingCollateral = strawberry.field(description="Collateral.")
    contact_name: str = strawberry.field(description="Contact person.")
    contact_phone: str = strawberry.field(description="Contact phone.")
    note: str | None = strawberry.field(description="Note.")
    submitted_on: dt.date = strawberry.field(description="Date submitted.")

    def node_key(self) -> str:
        return self.need_id

    @strawberry.field(description="The project the need is for.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await linked(info, "project", self.project_code))

    @strawberry.field(description="Banks matched to the need, best first.")
    async def matches(self, info: Ctx) -> list[FinancingMatch]:
        rows = await info.context.store.run(fs.NEED_MATCHES, {"ids": [self.need_id]})
        out = []
        for row in rows:
            state = fin.MatchState.of(row["match"])
            out.append(
                FinancingMatch(
                    bank_id=row["bank"],
                    bank_name=row["bank_name"],
                    score=state.score.total,
                    reasons=_reasons(state.score),
                    interest=_interest(state),
                    first_disclosed_at=_instant(row["match"].get("first_disclosed_at")),
                    disclosures=int(row["match"].get("disclosures") or 0),
                )
            )
        return sorted(out, key=lambda m: (-m.score, m.bank_id))

    @classmethod
    def of(cls, r: fin.NeedRecord) -> FinancingNeed:
        p = r.props
        return cls(
            need_id=r.id,
            project_code=r.project_code,
            amount=float(p["amount"]),
            amount_band=_band(fin.band_of(float(p["amount"]))),
            term_months=int(p["term_months"]),
            purpose=FinancingPurpose(p["purpose"]),
            collateral=FinancingCollateral(p["collateral"]),
            contact_name=str(p["contact_name"]),
            contact_phone=str(p["contact_phone"]),
            note=p.get("note"),
            submitted_on=dt.date.fromisoformat(str(p["submitted_on"])[:10]),
        )


@strawberry.type(description="A page of financing needs (default order: needId).")
class FinancingNeedConnection(ListPage[FinancingNeed]):
    pass


@strawberry.enum(description="Fields financing needs sort on.")
class FinancingNeedSortField(Enum):
    NEED_ID = strawberry.enum_value("need_id", description="The need's id.")
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")
    AMOUNT = strawberry.enum_value("amount", description="Amount.")
    TERM_MONTHS = strawberry.enum_value("term_months", description="Term.")
    SUBMITTED_ON = strawberry.enum_value("submitted_on", description="Date submitted.")


@strawberry.input(description="One sort key for financing needs.")
class FinancingNeedSort:
    field: FinancingNeedSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (default) or descending."
    )


_NEED_FIELDS: Final = {
    FinancingNeedSortField.NEED_ID: lambda n: n.id,
    FinancingNeedSortField.PROJECT_CODE: lambda n: n.project_code,
    FinancingNeedSortField.AMOUNT: lambda n: float(n.props["amount"]),
    FinancingNeedSortField.TERM_MONTHS: lambda n: int(n.props["term_months"]),
    FinancingNeedSortField.SUBMITTED_ON: lambda n: str(n.props["submitted_on"]),
}


@strawberry.input(description="Filters on financing needs; every one given must hold.")
class FinancingNeedWhere:
    project_code: str | None = strawberry.field(
        default=None, description="Only this project's needs (code or global id)."
    )
    purpose: FinancingPurpose | None = strawberry.field(default=None, description="Purpose.")
    collateral: FinancingCollateral | None = strawberry.field(
        default=None, description="Collateral."
    )
    min_amount: float | None = strawberry.field(default=None, description="Smallest amount.")
    max_amount: float | None = strawberry.field(default=None, description="Largest amount.")
    or_: list[FinancingNeedWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: FinancingNeedWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


def _keep_need(n: fin.NeedRecord, where: FinancingNeedWhere) -> bool:
    amount = float(n.props["amount"])
    checks = (
        where.project_code is None or n.project_code == key_of(where.project_code, "Project"),
        where.purpose is None or n.props["purpose"] == where.purpose.value,
        where.collateral is None or n.props["collateral"] == where.collateral.value,
        where.min_amount is None or amount >= where.min_amount,
        where.max_amount is None or amount <= where.max_amount,
    )
    return all(checks)


def _bank(info: Ctx) -> str:
    return fin.require_bank(info.context.subject)


def _own(info: Ctx, bank_id: str) -> None:
    if info.context.role is Role.BANK and bank_id != _bank(info):
        raise Forbidden("a bank may act only for itself")


@strawberry.type(description="Bank-project financing (融项通).")
class FinancingQuery:
    @strawberry.field(
        description="Financing needs matched to the calling bank, desensitized, best score "
        "first (bank role).",
        permission_classes=[allow(BANK_ONLY)],
    )
    async def financing_opportunities(
        self,
        info: Ctx,
        where: Annotated[FinancingOpportunityWhere | None, _arg("Filters.")] = None,
        sort: Annotated[
            list[FinancingOpportunitySort] | None,
            _arg(
                "Sort keys, most significant first (at most 3); ties keep the default order "
                "(best score first, then needId)."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FinancingOpportunityConnection:
        bank = _bank(info)
        found = matching(await fin.opportunities(info.context.store, bank), where, _keep)
        found, tag = sort_items(found, sort, _OPPORTUNITY_FIELDS, f"opportunities:{bank}")
        return FinancingOpportunityConnection.of(
            info.context,
            tag,
            found,
            lambda o: o.need.id,
            FinancingOpportunity.of,
            page_args(first, after, last, before),
        )

    @strawberry.field(
        description="One need matched to the calling bank (bank role); null if not matched.",
        permission_classes=[allow(BANK_ONLY)],
    )
    async def financing_opportunity(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID | None,
            _arg(
                "The opportunity's id (its id field; the need's global id works too). For one "
                "release a bare needId is accepted here too; pass it to needId instead."
            ),
        ] = None,
        need_id: Annotated[str | None, _arg("The need's needId.")] = None,
    ) -> FinancingOpportunity | None:
        need = need_key(_one(id, need_id, ("id", "needId")))
        found = await fin.opportunity(info.context.store, _bank(info), need)
        return FinancingOpportunity.of(found) if found else None

    @strawberry.field(
        description="A bank's preferences (a bank reads its own).",
        permission_classes=[allow(BANK_OR_WRITERS)],
    )
    async def financing_preference(
        self,
        info: Ctx,
        bank_id: Annotated[str | None, _arg("Bank id or global id (bank role: own).")] = None,
    ) -> FinancingPreference | None:
        if bank_id is not None:
            bank_id = key_of(bank_id, "Bank")
        if info.context.role is Role.BANK:
            bank_id = bank_id or _bank(info)
            _own(info, bank_id)
        if bank_id is None:
            raise InvalidInput("bankId: required")
        found = (await fin.preferences(info.context.store)).get(bank_id)
        return FinancingPreference.of(found) if found else None

    @strawberry.field(
        description="Credit granted and disbursed, by bank or region (a bank sees its own). "
        "For viewers and promoters, groups of fewer than 3 loans are suppressed (merged into "
        "one `suppressed` row when that has 3 or more).",
        permission_classes=[allow(frozenset(Role) - {Role.ANONYMOUS})],
    )
    async def credit_totals(
        self,
        info: Ctx,
        by: Annotated[CreditGrouping, _arg("Grouping.")] = CreditGrouping.BANK,
        region_level: Annotated[
            RegionLevel, _arg("The regions' level (grouping by region).")
        ] = RegionLevel.CITY,
    ) -> list[CreditTotal]:
        bank = _bank(info) if info.context.role is Role.BANK else None
        rows = await fin.credit_totals(
            info.context.store, str(by.value), level=str(region_level.value), bank=bank
        )
        if bank is None and info.context.role not in WRITERS:
            # Viewers and promoters get statistics, never a single loan's amount.
            rows = fin.suppress_small_cells(rows)
        return [
            CreditTotal(
                key=r.key, name=r.name, granted=r.granted, disbursed=r.disbursed, loans=r.loans
            )
            for r in rows
        ]

    @strawberry.field(
        description="Financing needs in full (operators and admins).",
        permission_classes=[allow(WRITERS)],
    )
    async def financing_needs(
        self,
        info: Ctx,
        project_code: Annotated[
            str | None,
            strawberry.argument(
                description="Only this project's needs.",
                deprecation_reason="Use where: {projectCode: ...}.",
            ),
        ] = None,
        where: Annotated[FinancingNeedWhere | None, _arg("Filters.")] = None,
        sort: Annotated[
            list[FinancingNeedSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties break on needId."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FinancingNeedConnection:
        found = matching(await fin.needs(info.context.store), where, _keep_need)
        if project_code is not None:
            code = key_of(project_code, "Project")
            found = [n for n in found if n.project_code == code]
        found, tag = sort_items(found, sort, _NEED_FIELDS, "financing_needs")
        return FinancingNeedConnection.of(
            info.context,
            tag,
            found,
            lambda n: n.id,
            FinancingNeed.of,
            page_args(first, after, last, before),
        )


@strawberry.type(description="Financing changes.")
class FinancingMutation:
    @strawberry.mutation(
        description="Submit or update financing needs; each is matched to banks at once.",
        permission_classes=[allow(WRITERS)],
    )
    async def submit_financing_needs(
        self, info: Ctx, items: Annotated[list[FinancingNeedInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        now = clock_of(info.context.extra)()
        raw = []
        for item in items:
            data = strawberry.asdict(item)
            data["purpose"] = item.purpose.value
            data["collateral"] = item.collateral.value
            data["project_code"] = _lenient(item.project_code, lambda v: key_of(v, "Project"))
            if item.id is not None:
                data["id"] = _lenient(item.id, lambda v: key_of(v, "FinancingNeed"))
            submitted = item.submitted_on or now.date()
            data["submitted_on"] = submitted.isoformat()
            raw.append({k: v for k, v in data.items() if v is not None})
        return BatchResult.of(await fin.submit_needs(info.context.store, raw, now))

    @strawberry.mutation(
        description="Set a bank's preferences and rematch it (a bank sets its own).",
        permission_classes=[allow(BANK_OR_WRITERS)],
    )
    async def set_financing_preference(
        self,
        info: Ctx,
        input: Annotated[FinancingPreferenceInput, _arg("The preferences (replace the old).")],
    ) -> FinancingPreference:
        bank_id = key_of(input.bank_id, "Bank")
        _own(info, bank_id)
        data = {
            **strawberry.asdict(input),
            "bank_id": bank_id,
            "chain_ids": [key_of(c, "IndustryChain") for c in input.chain_ids],
            "region_codes": [key_of(c, "Region") for c in input.region_codes],
        }
        now = clock_of(info.context.extra)()
        pref = await fin.set_preference(info.context.store, data, now)
        return FinancingPreference.of(pref)

    @strawberry.mutation(
        description="Show interest in a matched need (bank role); the owner is then asked.",
        permission_classes=[allow(BANK_ONLY)],
    )
    async def express_financing_interest(
        self,
        info: Ctx,
        opportunity: Annotated[
            strawberry.ID | None,
            _arg(
                "The opportunity's id (its id field; a need's global id works too); give this "
                "or needId."
            ),
        ] = None,
        need_id: Annotated[
            str | None,
            _arg(
                "The need's needId; give this or opportunity. For one release the "
                "opportunity's id is accepted here too."
            ),
        ] = None,
    ) -> FinancingOpportunity:
        now = clock_of(info.context.extra)()
        need = need_key(_one(opportunity, need_id, ("opportunity", "needId")))
        found = await fin.express_interest(info.context.store, _bank(info), need, now)
        return FinancingOpportunity.of(found)

    @strawberry.mutation(
        description="The owner's answer to a bank's interest (operators, for the owner); "
        "consent reveals the identity to that bank only.",
        permission_classes=[allow(WRITERS)],
    )
    async def respond_to_financing_interest(
        self,
        info: Ctx,
        consent: Annotated[bool, _arg("True reveals the owner to this bank.")],
        need: Annotated[
            strawberry.ID | None,
            _arg("The need's global id (its id field, or an opportunity's); or needId."),
        ] = None,
        need_id: Annotated[
            str | None,
            _arg("The need's needId (for one release its global id too); or need."),
        ] = None,
        bank: Annotated[
            strawberry.ID | None, _arg("The interested bank's global id (its id field); or bankId.")
        ] = None,
        bank_id: Annotated[
            str | None, _arg("The interested bank's bankId (for one release its global id too).")
        ] = None,
    ) -> FinancingInterest:
        now = clock_of(info.context.extra)()
        need_found = need_key(_one(need, need_id, ("need", "needId")))
        bank_found = key_of(_one(bank, bank_id, ("bank", "bankId")), "Bank")
        state = await fin.respond(info.context.store, need_found, bank_found, consent, now)
        return _interest(state)

    @strawberry.mutation(
        description="Record credit granted and disbursed (a bank: its own, after consent).",
        permission_classes=[allow(BANK_OR_WRITERS)],
    )
    async def record_credit(
        self, info: Ctx, items: Annotated[list[CreditInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        now = clock_of(info.context.extra)()
        as_bank = _bank(info) if info.context.role is Role.BANK else None
        raw = []
        for item in items:
            data = strawberry.asdict(item)
            data["need_id"] = _lenient(item.need_id, need_key)
            data["bank_id"] = _lenient(item.bank_id, lambda v: key_of(v, "Bank"))
            data["granted_on"] = item.granted_on.isoformat()
            raw.append(data)
        outcomes = await fin.record_credit(info.context.store, raw, now, as_bank=as_bank)
        return BatchResult.of(outcomes)


# --- node(id:) ----------------------------------------------------------------------------------


async def _need_node(info: Ctx, key: str) -> FinancingNeed | None:
    found = await fin.needs(info.context.store, [key])
    return FinancingNeed.of(found[0]) if found else None


async def _opportunity_node(info: Ctx, key: str) -> FinancingOpportunity | None:
    # Only the calling bank's own match: what financingOpportunity(id:) gives it, no more.
    found = await fin.opportunity(info.context.store, _bank(info), key)
    return FinancingOpportunity.of(found) if found else None


async def _preference_node(info: Ctx, key: str) -> FinancingPreference | None:
    _own(info, key)
    found = (await fin.preferences(info.context.store)).get(key)
    return FinancingPreference.of(found) if found else None


# node(id:) checks the same roles as the root fields: needs in full for operators and admins,
# an opportunity only for the bank it was matched to.
NODES: Final = (
    NodeLookup("FinancingNeed", _need_node, WRITERS),
    NodeLookup("FinancingOpportunity", _opportunity_node, BANK_ONLY),
    NodeLookup("FinancingPreference", _preference_node, BANK_OR_WRITERS),
)
