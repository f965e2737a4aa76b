"""Pydantic schema of the knowledge base.

Every record forbids unknown keys so that a typo in a YAML file fails loudly at
load time instead of silently dropping a clinical fact. Cross-file integrity
(a muscle's nerve exists, a finding's concept is known, ...) is checked by
:mod:`dxrx.kb.lint`, because it needs the whole KB at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = str
Sequence = Literal["T1", "T2", "STIR", "PD", "FS", "GRE", "DWI", "T1C"]
Modality = Literal["MR", "CT", "XR", "US", "NM", "PET", "EMG"]
Prevalence = Literal["very-common", "common", "uncommon", "rare", "very-rare"]
FindingKind = Literal["symptom", "sign", "history", "imaging", "lab", "course"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Referenced(Strict):
    """A clinical fact: it must name at least one reference id."""

    refs: list[Id] = Field(min_length=1)


# --- references -----------------------------------------------------------


class Reference(Strict):
    id: Id
    citation: str = Field(min_length=10)
    kind: Literal["article", "textbook", "guideline", "review", "website"]
    pmid: str | None = Field(default=None, pattern=r"^\d{5,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    pages: str | None = None


# --- vocabulary -------------------------------------------------------------


class Concept(Strict):
    """A finding type that ingest can recognise and conditions can refer to."""

    id: Id
    name: str
    kind: FindingKind
    synonyms: list[str] = Field(default_factory=list)
    parent: Id | None = None
    description: str | None = None


class Action(Strict):
    id: Id
    name: str
    joint: str
    synonyms: list[str] = Field(default_factory=list)


class Region(Strict):
    """A body region or skin territory (pain site, sensory area, dermatome)."""

    id: Id
    name: str
    synonyms: list[str] = Field(default_factory=list)
    parent: Id | None = None


# --- anatomy ----------------------------------------------------------------


class Root(Referenced):
    id: Id
    name: str
    level: Literal["cervical", "thoracic", "lumbar", "sacral", "coccygeal"]
    synonyms: list[str] = Field(default_factory=list)
    dermatome: list[Id] = Field(default_factory=list)
    reflex: str | None = None


class Plexus(Referenced):
    id: Id
    name: str
    synonyms: list[str] = Field(default_factory=list)
    roots: list[Id] = Field(
        default_factory=list, description="empty only for cranial-nerve groupings"
    )


class EntrapmentSite(Strict):
    id: Id
    name: str
    description: str


class Nerve(Referenced):
    id: Id
    name: str
    synonyms: list[str] = Field(default_factory=list)
    kind: Literal["nerve", "branch", "division"]
    parent: Id = Field(description="plexus id, or the nerve it branches from")
    roots: list[Id] = Field(default_factory=list, description="empty only for cranial nerves")
    sensory: list[Id] = Field(default_factory=list, description="region ids")
    course: str
    entrapment_sites: list[EntrapmentSite] = Field(default_factory=list)


class Muscle(Referenced):
    id: Id
    name: str
    synonyms: list[str] = Field(default_factory=list)
    group: str = Field(description="compartment or functional group")
    nerves: list[Id] = Field(min_length=1, description="most specific nerve or branch")
    roots: list[Id] = Field(
        default_factory=list,
        description="principal root levels; empty only for muscles of cranial nerves",
    )
    actions: list[Id] = Field(min_length=1, description="prime-mover actions")
    accessory_actions: list[Id] = Field(default_factory=list)
    origin: str
    insertion: str


class Structure(Referenced):
    """Bones, joints, tendons, ligaments, bursae, cartilage, spaces."""

    id: Id
    name: str
    kind: Literal[
        "bone",
        "joint",
        "tendon",
        "ligament",
        "bursa",
        "cartilage",
        "labrum",
        "fascia",
        "space",
        "vessel",
        "disc",
        "canal",
        "apophysis",
        "other",
    ]
    synonyms: list[str] = Field(default_factory=list)
    region: Id
    part_of: Id | None = None


# --- conditions -------------------------------------------------------------


class FindingRule(Referenced):
    """A finding a condition predicts, with DXplain-style weights.

    ``frequency`` (1 rare .. 5 almost always) is how often the finding occurs
    in the condition; it costs the condition when the finding is explicitly
    absent. ``evoking`` (0 none .. 5 pathognomonic) is how strongly the
    finding points to the condition when present.
    """

    concept: Id
    structures: list[Id] = Field(default_factory=list)
    actions: list[Id] = Field(default_factory=list)
    regions: list[Id] = Field(default_factory=list)
    sequences: list[Sequence] = Field(default_factory=list)
    modalities: list[Modality] = Field(default_factory=list)
    frequency: int = Field(ge=1, le=5)
    evoking: int = Field(ge=0, le=5)
    note: str | None = None


class Demographics(Referenced):
    age_min: int = Field(ge=0, le=120)
    age_max: int = Field(ge=0, le=120)
    sex: Literal["any", "female", "male"] = "any"
    sex_ratio: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Demographics:
        if self.age_min > self.age_max:
            raise ValueError("age_min must not exceed age_max")
        return self


class TreatmentStep(Referenced):
    phase: Literal["education", "conservative", "medication", "injection", "surgery", "referral"]
    text: str
    criteria: str | None = None
    refer_to: str | None = None


class Condition(Referenced):
    id: Id
    name: str
    aliases: list[str] = Field(default_factory=list)
    icd10: list[str] = Field(min_length=1)
    snomed: list[str] = Field(default_factory=list)
    category: Literal[
        "entrapment-neuropathy",
        "neuropathy",
        "radiculopathy",
        "plexopathy",
        "tendinopathy",
        "tendon-tear",
        "bursitis",
        "joint",
        "muscle-injury",
        "myopathy",
        "bone-stress",
        "bone",
        "tumour",
        "infection",
        "spine",
        "vascular",
        "other",
    ]
    description: str
    body_regions: list[Id] = Field(min_length=1)
    prevalence: Prevalence
    demographics: Demographics
    lesion_sites: list[Id] = Field(
        default_factory=list, description="nerve, root or plexus ids the lesion sits on"
    )
    target_muscles: list[Id] = Field(
        default_factory=list, description="muscles the rehabilitation should load"
    )
    findings: list[FindingRule] = Field(min_length=1)
    imaging: list[FindingRule] = Field(min_length=1)
    red_flags: list[Id] = Field(default_factory=list)
    differentials: list[Id] = Field(default_factory=list)
    treatment: list[TreatmentStep] = Field(min_length=3)
    rehab_protocol: Id

    @model_validator(mode="after")
    def _imaging_rules_are_imaging(self) -> Condition:
        if not any(r.modalities or r.sequences for r in self.imaging):
            raise ValueError(f"{self.id}: imaging rules must name a modality or sequence")
        return self


# --- red flags and staging ---------------------------------------------------


class Trigger(Strict):
    concept: Id
    min_age: int | None = None
    max_age: int | None = None


class RedFlag(Referenced):
    id: Id
    name: str
    triggers: list[Trigger] = Field(min_length=1, description="any one trigger raises the flag")
    concern: str
    action: str
    urgency: Literal["emergency", "urgent", "soon"]


class StageRule(Referenced):
    """A denervation stage defined by the MRI signal of the affected muscles."""

    stage: Literal["acute", "subacute", "chronic"]
    fluid_high: bool = Field(description="STIR/T2/fat-suppressed hyperintensity present")
    t1_fat: Literal["none", "mild", "marked"] = Field(description="T1 fatty change grade")
    atrophy: bool | None = Field(default=None, description="None: either")
    explanation: str


class DurationStage(Referenced):
    """Stage of a process from symptom duration, used when imaging cannot date it."""

    stage: Literal["acute", "subacute", "chronic"]
    max_days: float | None = Field(description="upper bound; None for the last stage")
    explanation: str


# --- exercises and protocols ------------------------------------------------


ExerciseCategory = Literal[
    "mobility",
    "isometric",
    "isotonic",
    "eccentric",
    "heavy-slow-resistance",
    "neural",
    "motor-control",
    "balance",
    "aerobic",
    "plyometric",
    "return-to-sport",
    "stretch",
]


class Exercise(Referenced):
    id: Id
    name: str
    category: ExerciseCategory
    targets: list[Id] = Field(min_length=1, description="muscle ids trained as prime movers")
    secondary: list[Id] = Field(default_factory=list)
    joint_loads: list[Id] = Field(default_factory=list)
    equipment: list[str] = Field(default_factory=list)
    level: int = Field(ge=1, le=4)
    position: str
    description: str = Field(min_length=20)
    cues: list[str] = Field(min_length=1)
    contraindications: list[str] = Field(default_factory=list)
    activity_only: bool = Field(
        default=False,
        description="sport- or job-specific drill: joins a plan only through an activity profile",
    )


class JointLoad(Referenced):
    """A tissue load an exercise imposes; ``terms`` are how written plans name such activity."""

    id: Id
    name: str
    terms: list[str] = Field(default_factory=list)


class FittVp(Strict):
    frequency: str = Field(min_length=3)
    intensity: str = Field(min_length=3)
    time: str = Field(min_length=3)
    type: str = Field(min_length=3)
    volume: str = Field(min_length=3)
    progression: str = Field(min_length=3)


class ProtocolStage(Strict):
    id: Id
    name: str
    goals: list[str] = Field(min_length=1)
    entry_criteria: list[str] = Field(min_length=1)
    fitt_vp: FittVp
    categories: list[ExerciseCategory] = Field(min_length=1)
    max_level: int = Field(ge=1, le=4)
    include_core: bool = False
    extra_exercises: list[Id] = Field(default_factory=list)
    avoid: list[str] = Field(default_factory=list)
    avoid_loads: list[Id] = Field(default_factory=list)
    progress_criteria: list[str] = Field(min_length=1)
    starts_at: list[Literal["acute", "subacute", "chronic"]] = Field(default_factory=list)
    weeks: int | None = Field(
        default=None, ge=1, le=52, description="typical least time in this stage, in weeks"
    )


class PhaseCaution(Strict):
    """What a precaution does to one phase of the treatment pathway."""

    phase: Literal["education", "conservative", "medication", "injection", "surgery", "referral"]
    action: Literal["withhold", "caution"]
    text: str = Field(min_length=10)


class Precaution(Referenced):
    """A patient factor (comorbidity, medication, age) that changes the plan.

    Fires when any of ``concepts`` is stated present in the case, or when the
    patient is at least ``min_age``; then the named treatment phases are
    withheld or annotated and exercises imposing ``avoid_loads``, of
    ``avoid_categories`` or done in ``avoid_positions`` are replaced.
    """

    id: Id
    name: str
    concepts: list[Id] = Field(default_factory=list)
    min_age: int | None = Field(default=None, ge=0, le=120)
    treatment: list[PhaseCaution] = Field(default_factory=list)
    avoid_loads: list[Id] = Field(default_factory=list)
    avoid_categories: list[ExerciseCategory] = Field(default_factory=list)
    avoid_positions: list[str] = Field(default_factory=list)
    flag_terms: list[str] = Field(
        default_factory=list,
        description="advice wordings that are unsafe for this patient when a plan recommends them",
    )
    advice: str = Field(min_length=10)

    @model_validator(mode="after")
    def _has_trigger(self) -> Precaution:
        if not self.concepts and self.min_age is None:
            raise ValueError(f"{self.id}: a precaution needs concepts or min_age")
        return self


class PostOperative(Referenced):
    """Stages after an operation for the condition, then where the main protocol resumes.

    A protocol without its own track uses the KB's general post-operative
    protocol and resumes at its second stage (the first is the non-operative
    protection stage the post-operative stages replace).
    """

    stages: list[ProtocolStage] = Field(min_length=1)
    rejoin: Id = Field(description="id of the main-protocol stage the patient moves on to")


class Protocol(Referenced):
    id: Id
    name: str
    description: str
    stages: list[ProtocolStage] = Field(min_length=2)
    post_operative: PostOperative | None = None


class Activity(Referenced):
    """A sport or activity level the case states, and what returning to it needs.

    Fires like a precaution, when one of ``concepts`` is stated present; its
    ``drills`` join the protocol's last stage (when that stage's loads allow)
    and its ``return_criteria`` join that stage's criteria.
    """

    id: Id
    name: str
    concepts: list[Id] = Field(min_length=1)
    demands: str = Field(min_length=10, description="the loads the activity puts on the body")
    drills: list[Id] = Field(default_factory=list, description="exercise ids")
    return_criteria: list[str] = Field(min_length=1)
    advice: str = Field(min_length=10)


class KbInfo(Strict):
    version: str
    title: str
    scope: str
    licence: str
