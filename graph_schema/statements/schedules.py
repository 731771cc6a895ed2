"""Project schedules (一表二图) and approval stages: records and statements.

``(Project)-[:HAS_TASK]->(ScheduleTask)`` is the responsibility table and the Gantt chart;
``(Project)-[:HAS_INVESTMENT_MONTH]->(InvestmentMonth)`` the investment-progress curve;
``(Project)-[:HAS_APPROVAL]->(ApprovalItem)`` the approval items of the three parallel
phases. Ids are ``<project code>/<task code | YYYY-MM | item code>``, so a re-import finds
the same node. Every statement takes its values as parameters.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_schema.cypher import Statement
from graph_schema.errors import Problem
from graph_schema.model import Amount, ProjectCode, RecordProblems

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScheduleTask(_Record):
    """A row of the responsibility table and a bar of the Gantt chart. ``owner`` is the
    responsible unit (a department or company), not a person."""

    project_code: ProjectCode
    code: Code
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=10_000)
    planned_start: dt.date
    planned_end: dt.date
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None

    @model_validator(mode="after")
    def _order(self) -> ScheduleTask:
        problems: list[Problem] = []
        if self.planned_end < self.planned_start:
            problems.append(Problem("planned_end", "planned_end is before planned_start"))
        if self.actual_end is not None and self.actual_start is None:
            problems.append(Problem("actual_start", "actual_end needs actual_start"))
        if self.actual_start and self.actual_end and self.actual_end < self.actual_start:
            problems.append(Problem("actual_end", "actual_end is before actual_start"))
        if problems:
            raise RecordProblems(problems)
        return self


class InvestmentMonth(_Record):
    """Planned and (once reported) actual investment of one month, 万元."""

    project_code: ProjectCode
    month: Month
    planned: Amount = 0
    actual: Amount | None = None


class ApprovalPhase(StrEnum):
    PREPARATION = "preparation"  # 前期工作
    CONSTRUCTION = "construction"  # 施工建设
    ACCEPTANCE = "acceptance"  # 竣工验收


class ApprovalRegime(StrEnum):
    """Whose project it is, which sets the committed limit in working days."""

    GOVERNMENT = "government"  # 政府投资项目: 55
    ENTERPRISE = "enterprise"  # 企业投资项目: 45
    COMMITMENT = "commitment"  # 承诺制: 40


class ApprovalItem(_Record):
    project_code: ProjectCode
    code: Code
    name: str = Field(min_length=1, max_length=200)
    phase: ApprovalPhase
    regime: ApprovalRegime
    authority: str | None = Field(default=None, max_length=100)
    position: int = Field(default=0, ge=0, le=10_000)
    started_on: dt.date | None = None
    completed_on: dt.date | None = None

    @model_validator(mode="after")
    def _order(self) -> ApprovalItem:
        if self.completed_on is not None and self.started_on is None:
            raise RecordProblems([Problem("started_on", "completed_on needs started_on")])
        if self.started_on and self.completed_on and self.completed_on < self.started_on:
            raise RecordProblems([Problem("completed_on", "completed_on is before started_on")])
        return self


LABELS: Final = ("ScheduleTask", "InvestmentMonth", "ApprovalItem")
TYPES: Final = ("HAS_TASK", "HAS_INVESTMENT_MONTH", "HAS_APPROVAL")
PROPERTIES: Final = (
    "id",
    *ScheduleTask.model_fields,
    *InvestmentMonth.model_fields,
    *ApprovalItem.model_fields,
    "props",
)


def _upsert(name: str, label: str, rel: str) -> Statement:
    return Statement(
        f"schedules.upsert_{name}",
        f"UNWIND $rows AS row MATCH (p:Project {{code: row.project_code}}) "
        f"MERGE (t:{label} {{id: row.id}}) SET t += row.props MERGE (p)-[:{rel}]->(t) "
        "RETURN row.id AS id",
        write=True,
    )


def _by_ids(name: str, label: str) -> Statement:
    """The stored properties of the nodes with these ids (a partial upsert merges over them)."""
    return Statement(
        f"schedules.{name}_by_id",
        f"UNWIND $ids AS id MATCH (t:{label} {{id: id}}) RETURN id, properties(t) AS props",
    )


def _of_projects(name: str, label: str, rel: str) -> Statement:
    return Statement(
        f"schedules.{name}",
        "UNWIND $projects AS code MATCH (p:Project {code: code}) "
        f"MATCH (p)-[:{rel}]->(t:{label}) RETURN code, properties(t) AS props",
    )


def _all(name: str, rel: str) -> Statement:
    return Statement(
        f"schedules.{name}",
        f"MATCH (p:Project)-[:{rel}]->() OPTIONAL MATCH (p)-[:LOCATED_IN]->(r:Region) "
        "RETURN DISTINCT p.code AS code, p.name AS name, r.code AS region_code",
    )


UPSERT_TASKS: Final = _upsert("tasks", "ScheduleTask", "HAS_TASK")
UPSERT_MONTHS: Final = _upsert("months", "InvestmentMonth", "HAS_INVESTMENT_MONTH")
UPSERT_APPROVALS: Final = _upsert("approvals", "ApprovalItem", "HAS_APPROVAL")
TASKS_BY_ID: Final = _by_ids("tasks", "ScheduleTask")
MONTHS_BY_ID: Final = _by_ids("months", "InvestmentMonth")
APPROVALS_BY_ID: Final = _by_ids("approvals", "ApprovalItem")
TASKS: Final = _of_projects("tasks", "ScheduleTask", "HAS_TASK")
MONTHS: Final = _of_projects("months", "InvestmentMonth", "HAS_INVESTMENT_MONTH")
APPROVALS: Final = _of_projects("approvals", "ApprovalItem", "HAS_APPROVAL")
SCHEDULED: Final = _all("scheduled", "HAS_TASK")
INVESTED: Final = _all("invested", "HAS_INVESTMENT_MONTH")
APPROVING: Final = _all("approving", "HAS_APPROVAL")


def catalog() -> list[Statement]:
    return [
        UPSERT_TASKS,
        UPSERT_MONTHS,
        UPSERT_APPROVALS,
        TASKS_BY_ID,
        MONTHS_BY_ID,
        APPROVALS_BY_ID,
        TASKS,
        MONTHS,
        APPROVALS,
        SCHEDULED,
        INVESTED,
        APPROVING,
    ]
