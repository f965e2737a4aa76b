"""Load the YAML knowledge base shipped inside the package.

Each YAML file holds one or more top-level sections (``muscles:``, ``nerves:``,
``condition:``, ...); the loader validates every record against
:mod:`dxrx.kb.schema` and files it by id. Derived indexes (which muscles a
nerve supplies, transitively) are built once here so that reasoning stays a
set of dictionary look-ups.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dxrx.kb import schema as s

try:  # the C loader is ~10x faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class KbError(Exception):
    """The knowledge base is malformed; the message lists every problem."""


M = TypeVar("M", bound=BaseModel)

GENERAL_POST_OP = "post-operative-general"
"""The protocol whose stages serve as the post-operative track of protocols without one."""

_SECTIONS: dict[str, type[BaseModel]] = {
    "references": s.Reference,
    "concepts": s.Concept,
    "actions": s.Action,
    "regions": s.Region,
    "roots": s.Root,
    "plexuses": s.Plexus,
    "nerves": s.Nerve,
    "muscles": s.Muscle,
    "structures": s.Structure,
    "conditions": s.Condition,
    "red_flags": s.RedFlag,
    "staging": s.StageRule,
    "duration_staging": s.DurationStage,
    "exercises": s.Exercise,
    "protocols": s.Protocol,
    "precautions": s.Precaution,
    "activities": s.Activity,
    "joint_loads": s.JointLoad,
}


@dataclass
class KnowledgeBase:
    info: s.KbInfo
    version: str
    references: dict[str, s.Reference] = field(default_factory=dict)
    concepts: dict[str, s.Concept] = field(default_factory=dict)
    actions: dict[str, s.Action] = field(default_factory=dict)
    regions: dict[str, s.Region] = field(default_factory=dict)
    roots: dict[str, s.Root] = field(default_factory=dict)
    plexuses: dict[str, s.Plexus] = field(default_factory=dict)
    nerves: dict[str, s.Nerve] = field(default_factory=dict)
    muscles: dict[str, s.Muscle] = field(default_factory=dict)
    structures: dict[str, s.Structure] = field(default_factory=dict)
    conditions: dict[str, s.Condition] = field(default_factory=dict)
    red_flags: dict[str, s.RedFlag] = field(default_factory=dict)
    staging: list[s.StageRule] = field(default_factory=list)
    duration_staging: list[s.DurationStage] = field(default_factory=list)
    exercises: dict[str, s.Exercise] = field(default_factory=dict)
    protocols: dict[str, s.Protocol] = field(default_factory=dict)
    precautions: dict[str, s.Precaution] = field(default_factory=dict)
    activities: dict[str, s.Activity] = field(default_factory=dict)
    joint_loads: dict[str, s.JointLoad] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)

    # ---- derived anatomy indexes (filled by _index) ----
    nerve_children: dict[str, list[str]] = field(default_factory=dict)
    muscles_of_site: dict[str, frozenset[str]] = field(default_factory=dict)
    region_ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    concept_ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    structure_ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def name_of(self, any_id: str) -> str:
        """Human name of any anatomy, concept, action or condition id."""
        for table in (
            self.muscles,
            self.nerves,
            self.roots,
            self.plexuses,
            self.structures,
            self.regions,
            self.actions,
            self.concepts,
            self.conditions,
        ):
            rec = table.get(any_id)
            if rec is not None:
                return str(rec.name)
        return any_id

    def site_kind(self, site: str) -> str:
        if site in self.roots:
            return "root"
        if site in self.plexuses:
            return "plexus"
        if site in self.nerves:
            return self.nerves[site].kind
        return "unknown"

    def nerve_descendants(self, nerve_id: str) -> Iterator[str]:
        yield nerve_id
        for child in self.nerve_children.get(nerve_id, []):
            yield from self.nerve_descendants(child)

    def region_is_within(self, region: str, ancestor: str) -> bool:
        return ancestor in self.region_ancestors.get(region, (region,))

    def segment_of_region(self, region: str) -> str:
        """The limb or trunk segment a region lies in (thigh, leg, shoulder, forearm...)."""
        chain = self.region_ancestors.get(region, (region,))
        return chain[-2] if len(chain) >= 2 else chain[-1]

    def segment_of(self, anatomy: str) -> str | None:
        """The segment of a structure's region; None for muscles, nerves and roots."""
        st = self.structures.get(anatomy)
        return self.segment_of_region(st.region) if st is not None else None

    def concept_is_a(self, concept: str, ancestor: str) -> bool:
        return ancestor in self.concept_ancestors.get(concept, (concept,))


def _data_root() -> Traversable:
    return resources.files("dxrx.kb").joinpath("data")


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda t: t.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, rel + "/")
        elif child.name.endswith((".yaml", ".yml")):
            yield rel, child


def _ancestors(start: str, parent_of: dict[str, str | None]) -> tuple[str, ...]:
    chain = [start]
    seen = {start}
    cur = parent_of.get(start)
    while cur is not None and cur not in seen:
        chain.append(cur)
        seen.add(cur)
        cur = parent_of.get(cur)
    return tuple(chain)


def _index(kb: KnowledgeBase) -> None:
    children: dict[str, list[str]] = defaultdict(list)
    for nerve in kb.nerves.values():
        children[nerve.parent].append(nerve.id)
    kb.nerve_children = dict(children)

    supplied_by: dict[str, set[str]] = defaultdict(set)
    for muscle in kb.muscles.values():
        for nerve_id in muscle.nerves:
            supplied_by[nerve_id].add(muscle.id)
        for root in muscle.roots:
            supplied_by[root].add(muscle.id)

    def muscles_below(site: str, seen: frozenset[str] = frozenset()) -> set[str]:
        out = set(supplied_by.get(site, set()))
        for child in children.get(site, []):
            if child not in seen:
                out |= muscles_below(child, seen | {site})
        return out

    sites: dict[str, frozenset[str]] = {}
    for nerve_id in kb.nerves:
        sites[nerve_id] = frozenset(muscles_below(nerve_id))
    for plexus_id in kb.plexuses:
        sites[plexus_id] = frozenset(muscles_below(plexus_id))
    for root_id in kb.roots:
        sites[root_id] = frozenset(supplied_by.get(root_id, set()))
    kb.muscles_of_site = sites

    region_parent = {r.id: r.parent for r in kb.regions.values()}
    kb.region_ancestors = {rid: _ancestors(rid, region_parent) for rid in region_parent}
    concept_parent = {c.id: c.parent for c in kb.concepts.values()}
    kb.concept_ancestors = {cid: _ancestors(cid, concept_parent) for cid in concept_parent}
    kb.structure_ancestors = _structure_ancestors(kb)


# Tissue-level structures: "muscle", "tendon", ... name a tissue, not a place.
GENERIC_TISSUES = frozenset(
    {"muscle", "soft-tissue", "tendon", "joint", "skeleton", "bursa", "nerve"}
)

# A report often names only the tissue ("an intramuscular mass", "tendon thickening"), so
# a rule written on the generic tissue must accept any named structure of that tissue.
_GENERIC_OF_KIND = {
    "tendon": ("tendon", "soft-tissue"),
    "bursa": ("bursa", "soft-tissue"),
    "fascia": ("soft-tissue",),
    "ligament": ("joint",),
    "labrum": ("joint",),
    "cartilage": ("joint",),
    "joint": ("joint",),
    "bone": ("skeleton",),
    "apophysis": ("skeleton",),
}


def _structure_ancestors(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Each structure or muscle with what it is part of and the generic tissue it belongs to."""
    part_of = {st.id: st.part_of for st in kb.structures.values()}
    out: dict[str, tuple[str, ...]] = {}
    for st in kb.structures.values():
        chain = list(_ancestors(st.id, part_of))
        for sid in list(chain):
            kind = kb.structures[sid].kind if sid in kb.structures else ""
            chain += [g for g in _GENERIC_OF_KIND.get(kind, ()) if g in kb.structures]
        out[st.id] = tuple(dict.fromkeys(chain))
    generic_muscle = tuple(g for g in ("muscle", "soft-tissue") if g in kb.structures)
    for mid in kb.muscles:
        out[mid] = (mid, *generic_muscle)
    generic_nerve = ("nerve",) if "nerve" in kb.structures else ()
    for nid in kb.nerves:
        out[nid] = (nid, *generic_nerve)
    return out


def _record_errors(rel: str, section: str, idx: int, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        out.append(f"{rel}: {section}[{idx}].{loc}: {err['msg']}")
    return out


def load_from(files: Iterator[tuple[str, Traversable | Path | _Raw]]) -> KnowledgeBase:
    """Build a KB from (relative name, file) pairs; raises KbError listing all problems."""
    problems: list[str] = []
    digest = hashlib.sha256()
    info: s.KbInfo | None = None
    ordered = ("staging", "duration_staging")
    tables: dict[str, dict[str, Any]] = {k: {} for k in _SECTIONS if k not in ordered}
    lists: dict[str, list[Any]] = {k: [] for k in ordered}
    origin: dict[str, str] = {}
    duplicates: list[str] = []

    for rel, handle in files:
        raw = handle.read_bytes()
        digest.update(rel.encode() + b"\0" + raw)
        try:
            doc = yaml.load(raw, Loader=_Loader)
        except yaml.YAMLError as exc:
            problems.append(f"{rel}: not valid YAML: {exc}".replace("\n", " "))
            continue
        if not isinstance(doc, dict):
            problems.append(f"{rel}: top level must be a mapping of sections")
            continue
        for section, body in doc.items():
            if section == "kb":
                try:
                    info = s.KbInfo.model_validate(body)
                except ValidationError as exc:
                    problems.extend(_record_errors(rel, "kb", 0, exc))
                continue
            if section == "condition":  # one-condition-per-file form
                section, body = "conditions", [body]
            model = _SECTIONS.get(section)
            if model is None:
                problems.append(f"{rel}: unknown section {section!r}")
                continue
            if not isinstance(body, list):
                problems.append(f"{rel}: section {section!r} must be a list")
                continue
            for idx, item in enumerate(body):
                try:
                    rec = model.model_validate(item)
                except ValidationError as exc:
                    problems.extend(_record_errors(rel, section, idx, exc))
                    continue
                if section in lists:
                    lists[section].append(rec)
                    continue
                rid = rec.id  # type: ignore[attr-defined]
                key = f"{section}:{rid}"
                if rid in tables[section]:
                    duplicates.append(
                        f"{rel}: duplicate {section} id {rid!r} (also in {origin[key]})"
                    )
                tables[section][rid] = rec
                origin[key] = rel

    if info is None:
        problems.append("kb.yaml: missing 'kb' section with version, title, scope, licence")
    if problems:
        raise KbError("knowledge base is invalid:\n  " + "\n  ".join(problems))
    assert info is not None
    kb = KnowledgeBase(
        info=info,
        version=f"{info.version}+{digest.hexdigest()[:10]}",
        staging=lists["staging"],
        duration_staging=sorted(
            lists["duration_staging"],
            key=lambda d: float("inf") if d.max_days is None else d.max_days,
        ),
        origin=origin,
        duplicates=duplicates,
        **tables,
    )
    _index(kb)
    return kb


def load_dir(path: Path) -> KnowledgeBase:
    """Load a KB from a directory on disk (used by tests that break a copy)."""
    pairs = (
        (p.relative_to(path).as_posix(), p)
        for p in sorted(path.rglob("*"))
        if p.suffix in {".yaml", ".yml"}
    )
    return load_from(pairs)


@dataclass(frozen=True)
class _Raw:
    data: bytes

    def read_bytes(self) -> bytes:
        return self.data


def _cache_file(files: list[tuple[str, _Raw]]) -> Path | None:
    """Where the compiled KB for exactly these files and this code version is cached."""
    if os.environ.get("DXRX_KB_CACHE", "1") == "0":
        return None
    digest = hashlib.sha256()
    for code in (__file__, s.__file__):
        digest.update(Path(code).read_bytes())
    for rel, raw in files:
        digest.update(rel.encode() + b"\0" + raw.data)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dxrx" / f"kb-{digest.hexdigest()[:20]}.pickle"


@cache
def load_kb() -> KnowledgeBase:
    """The packaged KB, loaded once per process.

    Validating a few hundred YAML records costs most of a cold start, so the
    compiled KB is cached (keyed by the data files and the loader code) in the
    user's cache folder; ``DXRX_KB_CACHE=0`` turns the cache off. A cache that
    cannot be read or written is ignored, never fatal.
    """
    files = [(rel, _Raw(h.read_bytes())) for rel, h in _walk(_data_root())]
    target = _cache_file(files)
    if target is not None and target.is_file():
        try:
            with target.open("rb") as fh:
                kb = pickle.load(fh)
            if isinstance(kb, KnowledgeBase):
                return kb
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    kb = load_from(iter(files))
    if target is not None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(kb, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
            for old in target.parent.glob("kb-*.pickle"):
                if old != target:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
    return kb
