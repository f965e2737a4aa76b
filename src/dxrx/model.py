"""Typed records passed between the pipeline stages (ingest -> reason -> plan -> report).

Every claim that reaches a report is one of these records and carries either a
source span into the case text or the KB reference ids it rests on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["left", "right", "bilateral"]
Grade = Literal["mild", "moderate", "marked"]
StageName = Literal["acute", "subacute", "chronic"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Span(Record):
    """Character offsets into ``Case.text`` and the text they cover."""

    start: int
    end: int
    text: str
    section: str


class Finding(Record):
    concept: str
    kind: str
    label: str = Field(description="the finding restated in words, without interpretation")
    structures: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    sequences: list[str] = Field(default_factory=list)
    modality: str | None = None
    side: Side | None = None
    grade: Grade | None = None
    negated: bool = False
    uncertain: bool = False
    span: Span = Field(description="the sentence or clause the finding comes from")
    cue: Span = Field(description="the words that name the finding")


class Section(Record):
    name: Literal["history", "examination", "imaging", "other"]
    start: int
    end: int


class Case(Record):
    id: str | None = None
    age: int | None = None
    sex: Literal["female", "male"] | None = None
    side: Side | None = None
    duration_days: float | None = None
    duration_text: str | None = None
    onset: Literal["sudden", "insidious"] | None = None
    modalities: list[str] = Field(default_factory=list)
    text: str
    sections: list[Section] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    final_diagnosis: str | None = None


class Evidence(Record):
    statement: str
    weight: float
    span: Span | None = None
    refs: list[str] = Field(default_factory=list)


class DifferentialEntry(Record):
    id: str
    name: str
    aliases: list[str]
    category: str
    icd10: list[str]
    score: float
    log_score: float
    for_: list[Evidence] = Field(alias="for")
    against: list[Evidence]


class SiteFit(Record):
    site: str
    name: str
    kind: str
    explains: list[str]
    unexplained: list[str]
    spared_conflicts: list[str]
    predicted_not_reported: list[str]
    fit: float


class Localisation(Record):
    site: str | None
    site_id: str | None = None
    kind: str | None = None
    explains: list[str] = Field(default_factory=list)
    unexplained: list[str] = Field(default_factory=list)
    spared: list[str] = Field(default_factory=list)
    affected_muscles: list[str] = Field(default_factory=list)
    alternatives: list[SiteFit] = Field(default_factory=list)
    root_alternative: SiteFit | None = None
    reasoning: str
    refs: list[str] = Field(default_factory=list)


class ImagingReadout(Record):
    summary: str
    findings: list[Finding]
    stage: StageName | None
    stage_basis: str
    stage_refs: list[str] = Field(default_factory=list)


class RedFlagHit(Record):
    id: str
    name: str
    concern: str
    action: str
    urgency: str
    evidence: list[Evidence]
    refs: list[str]


class Assessment(Record):
    case: Case
    imaging: ImagingReadout
    localisation: Localisation
    differential: list[DifferentialEntry]
    red_flags: list[RedFlagHit]
    red_flags_screened_negative: list[Evidence] = Field(default_factory=list)


class TreatmentItem(Record):
    phase: str
    text: str
    criteria: str | None = None
    refer_to: str | None = None
    status: Literal["advised", "caution", "withheld"] = "advised"
    caution: str | None = Field(
        default=None, description="why this patient's factors withhold or qualify the step"
    )
    red_flag: str | None = Field(
        default=None, description="id of the red flag this referral was raised for"
    )
    urgency: str | None = Field(default=None, description="how soon, for a red-flag referral")
    refs: list[str]


class Personalisation(Record):
    """A patient factor that changed the plan, what triggered it and what it changed."""

    id: str
    name: str
    trigger: str
    span: Span | None = None
    changes: list[str]
    advice: str
    refs: list[str]


class ExerciseRx(Record):
    id: str
    name: str
    category: str
    targets: list[str]
    dosage: str
    description: str
    cues: list[str]
    why: str
    refs: list[str]


class FittVp(Record):
    frequency: str
    intensity: str
    time: str
    type: str
    volume: str
    progression: str


class RehabStage(Record):
    id: str
    name: str
    current: bool
    goals: list[str]
    entry_criteria: list[str]
    fitt_vp: FittVp
    exercises: list[ExerciseRx]
    avoid: list[str]
    progress_criteria: list[str]
    weeks: int | None = Field(default=None, description="typical least time in the stage")
    post_operative: bool = False


class Rehabilitation(Record):
    protocol_id: str
    protocol_name: str
    target_muscles: list[str]
    target_basis: str
    stages: list[RehabStage]
    start_basis: str = Field(
        default="", description="why the current stage is where this patient starts"
    )
    start_span: Span | None = None
    refs: list[str]


class Plan(Record):
    condition_id: str
    condition_name: str
    treatment: list[TreatmentItem]
    referral: list[TreatmentItem]
    rehabilitation: Rehabilitation
    personalisation: list[Personalisation] = Field(default_factory=list)
    safety: list[str] = Field(default_factory=list)


class Leading(Record):
    id: str
    name: str
    score: float
    stage: StageName | None
    icd10: list[str]
    snomed: list[str] = Field(default_factory=list)


class Report(Record):
    """The output contract of ``dxrx analyze --format json`` (see DESIGN.md)."""

    case: Case
    imaging: ImagingReadout
    localisation: Localisation
    differential: list[DifferentialEntry]
    leading: Leading
    red_flags: list[RedFlagHit]
    red_flags_screened_negative: list[Evidence]
    plan: Plan
    references: dict[str, str]
    disclaimer: str
    kb_version: str
    dxrx_version: str
