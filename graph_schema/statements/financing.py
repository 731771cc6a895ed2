"""Bank-project financing (融项通): financing needs, banks' preferences, matches, consent and
credit, as records and statements.

``(Project)-[:NEEDS]->(FinancingNeed)-[:MATCHED {score, reasons, interest_at, consent,
responded_at}]->(Bank)``; ``(Bank)-[:PREFERS]->(FinancingPreference)``;
``(Bank)-[:LENT {need_id, granted, disbursed, granted_on}]->(Project)``.

A need holds the owner's contact and the exact amount: the statements that read it return the
whole record to ``hub.projects.financing``, which alone decides what a bank may see. Every statement
takes its values as parameters.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from graph_schema.cypher import Statement
from graph_schema.model import Amount, BankId, ProjectCode, RegionCode, Slug

NeedId = Annotated[str, Field(pattern=r"^fn-[0-9a-z]{6,32}$")]
# Mainland mobile or landline with area code; only for the owner's contact person.
Phone = Annotated[str, Field(pattern=r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")]
Months = Annotated[int, Field(ge=1, le=360)]


class FinancingPurpose(StrEnum):
    FIXED_ASSETS = "fixed_assets"  # 固定资产贷款
    WORKING_CAPITAL = "working_capital"  # 流动资金
    EQUIPMENT = "equipment"  # 设备购置
    LAND = "land"  # 土地款
    REFINANCING = "refinancing"  # 置换
    OTHER = "other"


class Collateral(StrEnum):
    CREDIT = "credit"  # 信用, none
    LAND_USE_RIGHT = "land_use_right"
    PROPERTY = "property"
    EQUIPMENT = "equipment"
    RECEIVABLES = "receivables"
    GUARANTEE = "guarantee"
    EQUITY = "equity"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class FinancingNeed(_Record):
    """What an owner asks for. Purpose and collateral are categories, not free text, so the
    desensitized view can show them without carrying names."""

    id: NeedId
    project_code: ProjectCode
    amount: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)] = Field(description="万元.")
    term_months: Months
    purpose: FinancingPurpose
    collateral: Collateral
    contact_name: str = Field(min_length=1, max_length=50)
    contact_phone: Phone
    note: str | None = Field(default=None, max_length=500)
    submitted_on: dt.date


class FinancingPreference(_Record):
    """A bank's stated appetite; an empty list means any industry or region."""

    bank_id: BankId
    chain_ids: list[Slug] = Field(default_factory=list, max_length=50)
    region_codes: list[RegionCode] = Field(default_factory=list, max_length=200)
    amount_min: Amount = 0
    amount_max: Amount = 1e9
    term_max_months: Months = 360

    @field_validator("chain_ids", "region_codes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _range(self) -> FinancingPreference:
        if self.amount_max < self.amount_min:
            raise ValueError("amount_max is below amount_min")
        return self


class Credit(_Record):
    """Credit a bank granted against one need, and how much of it is disbursed so far."""

    need_id: NeedId
    bank_id: BankId
    granted: Amount
    disbursed: Amount = 0
    granted_on: dt.date

    @model_validator(mode="after")
    def _not_more(self) -> Credit:
        if self.disbursed > self.granted:
            raise ValueError("disbursed exceeds granted")
        return self


# Vocabulary for the Neo4j linter (labels, relationship types, property keys).
LABELS: Final = ("FinancingNeed", "FinancingPreference")
TYPES: Final = ("NEEDS", "MATCHED", "PREFERS", "LENT")
PROPERTIES: Final = (
    *FinancingNeed.model_fields,
    *FinancingPreference.model_fields,
    *Credit.model_fields,
    "score",
    "reasons",
    "matched_at",
    "interest_at",
    "consent",
    "responded_at",
    "updated_at",
    "first_disclosed_at",
    "disclosures",
    "need",  # row parameter keys
    "bank",
    "at",
)

# The need with what matching and the desensitized view need of its project; the caller
# (hub.projects.financing) keeps the rest away from banks.
_CONTEXT = (
    "MATCH (p:Project)-[:NEEDS]->(n) "
    "OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "OPTIONAL MATCH (p)-[:OWNED_BY]->(e:Enterprise) "
    "RETURN properties(n) AS need, p.code AS project_code, p.name AS project_name, "
    "p.stage AS stage, r.code AS region_code, e.uscc AS owner_uscc, e.name AS owner_name, "
    "[(p)-[:BUILDS_IN]->(:ChainSegment)-[:PART_OF]->(c:IndustryChain) | c.id] AS chains"
)

NEEDS_BY_ID: Final = Statement(
    "financing.needs_by_id",
    f"UNWIND $ids AS id MATCH (n:FinancingNeed {{id: id}}) WITH n {_CONTEXT}",
)
ALL_NEEDS: Final = Statement("financing.all_needs", f"MATCH (n:FinancingNeed) WITH n {_CONTEXT}")
NEED_PROJECT: Final = Statement(
    "financing.need_project",
    "UNWIND $ids AS id MATCH (n:FinancingNeed {id: id}) MATCH (p:Project)-[:NEEDS]->(n) "
    "RETURN id, p.code AS project_code",
)
UPSERT_NEEDS: Final = Statement(
    "financing.upsert_needs",
    "UNWIND $rows AS row MATCH (p:Project {code: row.project_code}) "
    "MERGE (n:FinancingNeed {id: row.id}) SET n += row.props MERGE (p)-[:NEEDS]->(n) "
    "RETURN row.id AS id",
    write=True,
)
SET_PREFERENCE: Final = Statement(
    "financing.set_preference",
    "MATCH (b:Bank {id: $bank}) MERGE (f:FinancingPreference {bank_id: $bank}) "
    "SET f += $props MERGE (b)-[:PREFERS]->(f) RETURN f.bank_id AS bank",
    write=True,
)
PREFERENCES: Final = Statement(
    "financing.preferences",
    "MATCH (b:Bank)-[:PREFERS]->(f:FinancingPreference) "
    "RETURN b.id AS bank, properties(f) AS preference",
)
BANKS: Final = Statement(
    "financing.banks",
    "UNWIND $ids AS id MATCH (b:Bank {id: id}) RETURN b.id AS id, b.name AS name",
)
# Matches are replaced, except those a bank has already acted on.
CLEAR_MATCHES: Final = Statement(
    "financing.clear_matches",
    "UNWIND $needs AS id MATCH (n:FinancingNeed {id: id})-[m:MATCHED]->(b:Bank) "
    "WHERE m.interest_at IS NULL AND b.id IN $banks DELETE m RETURN count(*) AS removed",
    write=True,
)
WRITE_MATCHES: Final = Statement(
    "financing.write_matches",
    "UNWIND $rows AS row MATCH (n:FinancingNeed {id: row.need}) MATCH (b:Bank {id: row.bank}) "
    "MERGE (n)-[m:MATCHED]->(b) SET m.score = row.score, m.reasons = row.reasons, "
    "m.matched_at = row.at RETURN count(m) AS written",
    write=True,
)
BANK_MATCHES: Final = Statement(
    "financing.bank_matches",
    "MATCH (b:Bank {id: $bank}) MATCH (n:FinancingNeed)-[m:MATCHED]->(b) "
    "RETURN n.id AS need, properties(m) AS match",
)
NEED_MATCHES: Final = Statement(
    "financing.need_matches",
    "UNWIND $ids AS id MATCH (n:FinancingNeed {id: id}) MATCH (n)-[m:MATCHED]->(b:Bank) "
    "RETURN id AS need, b.id AS bank, b.name AS bank_name, properties(m) AS match",
)
MATCH_OF: Final = Statement(
    "financing.match_of",
    "MATCH (n:FinancingNeed {id: $need}) MATCH (n)-[m:MATCHED]->(b:Bank {id: $bank}) "
    "RETURN properties(m) AS match",
)
EXPRESS_INTEREST: Final = Statement(
    "financing.express_interest",
    "MATCH (n:FinancingNeed {id: $need}) MATCH (n)-[m:MATCHED]->(b:Bank {id: $bank}) "
    "SET m.interest_at = coalesce(m.interest_at, $at) RETURN properties(m) AS match",
    write=True,
)
RESPOND: Final = Statement(
    "financing.respond",
    "MATCH (n:FinancingNeed {id: $need}) MATCH (n)-[m:MATCHED]->(b:Bank {id: $bank}) "
    "WHERE m.interest_at IS NOT NULL "
    "SET m.consent = $consent, m.responded_at = $at RETURN properties(m) AS match",
    write=True,
)
# The audit trail of a disclosure: when the bank first read the identity, and how often.
RECORD_DISCLOSURE: Final = Statement(
    "financing.record_disclosure",
    "MATCH (n:FinancingNeed {id: $need}) MATCH (n)-[m:MATCHED]->(b:Bank {id: $bank}) "
    "WHERE m.consent = 'granted' "
    "SET m.first_disclosed_at = coalesce(m.first_disclosed_at, $at), "
    "m.disclosures = coalesce(m.disclosures, 0) + 1 RETURN m.disclosures AS disclosures",
    write=True,
)
RECORD_CREDIT: Final = Statement(
    "financing.record_credit",
    "UNWIND $rows AS row MATCH (n:FinancingNeed {id: row.need_id}) "
    "MATCH (p:Project)-[:NEEDS]->(n) MATCH (b:Bank {id: row.bank_id}) "
    "MERGE (b)-[l:LENT {need_id: row.need_id}]->(p) "
    "SET l.granted = row.granted, l.disbursed = row.disbursed, l.granted_on = row.granted_on, "
    "l.updated_at = row.at RETURN row.need_id AS need, row.bank_id AS bank",
    write=True,
)
CREDIT_ROWS: Final = Statement(
    "financing.credit_rows",
    "MATCH (b:Bank)-[l:LENT]->(p:Project) OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
    "RETURN b.id AS bank, b.name AS bank_name, r.code AS region, "
    "sum(l.granted) AS granted, sum(l.disbursed) AS disbursed, count(l) AS loans",
)


def catalog() -> list[Statement]:
    return [
        NEEDS_BY_ID,
        ALL_NEEDS,
        NEED_PROJECT,
        UPSERT_NEEDS,
        SET_PREFERENCE,
        PREFERENCES,
        BANKS,
        CLEAR_MATCHES,
        WRITE_MATCHES,
        BANK_MATCHES,
        NEED_MATCHES,
        MATCH_OF,
        EXPRESS_INTEREST,
        RESPOND,
        RECORD_DISCLOSURE,
        RECORD_CREDIT,
        CREDIT_ROWS,
    ]
