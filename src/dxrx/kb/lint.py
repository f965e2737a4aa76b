"""Referential integrity of the knowledge base.

The schema checks each record alone; this checks that records agree with each
other, so that a condition can never point at a muscle, concept or protocol
that does not exist and silently lose its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from dxrx.kb.loader import GENERAL_POST_OP, KnowledgeBase


def _missing(
    problems: list[str], where: str, what: str, ids: Iterable[str], known: Iterable[str]
) -> None:
    pool = set(known)
    for i in ids:
        if i not in pool:
            problems.append(f"{where}: unknown {what} {i!r}")


def _refs(problems: list[str], kb: KnowledgeBase, where: str, rec: BaseModel) -> None:
    """Walk a record (and nested records) and check every ``refs`` list."""
    refs = getattr(rec, "refs", None)
    if refs is not None:
        _missing(problems, where, "reference", refs, kb.references)
    for name in type(rec).model_fields:
        value = getattr(rec, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, BaseModel):
                _refs(problems, kb, where, item)


def _ambiguous(
    problems: list[str],
    what: str,
    tables: Iterable[dict[str, Any]],
    kb: KnowledgeBase | None = None,
) -> None:
    """A phrase that names two different records would make ingest guess.

    With ``kb`` given (anatomy), a phrase may name structures in different limb
    segments: ingest picks the one in the segment the rest of the case names.
    """
    owners: dict[str, list[str]] = {}
    for table in tables:
        for rid, rec in table.items():
            for phrase in [rec.name, *rec.synonyms]:
                key = " ".join(str(phrase).lower().replace("-", " ").split())
                ids = owners.setdefault(key, [])
                if rid not in ids:
                    ids.append(rid)
    for phrase, ids in owners.items():
        if len(ids) < 2:
            continue
        segments = [kb.segment_of(i) for i in ids] if kb is not None else [None]
        if None in segments or len(set(segments)) < len(segments):
            problems.append(f"{what} phrase {phrase!r} names both {ids[0]!r} and {ids[1]!r}")


def _shared_labels(problems: list[str], kb: KnowledgeBase) -> None:
    """A diagnosis label owned by two conditions would credit either for the same truth."""
    from dxrx.labels import label_key

    owner: dict[str, str] = {}
    for cond in kb.conditions.values():
        for label in (cond.name, *cond.aliases):
            key = label_key(label)
            other = owner.setdefault(key, cond.id) if key else cond.id
            if other != cond.id:
                problems.append(f"diagnosis label {label!r} names both {other!r} and {cond.id!r}")


def lint(kb: KnowledgeBase) -> list[str]:
    """Every cross-reference problem in the KB, one line each; empty when sound."""
    p: list[str] = list(kb.duplicates)
    anatomy = (
        set(kb.muscles) | set(kb.nerves) | set(kb.structures) | set(kb.roots) | set(kb.plexuses)
    )
    for table in (
        kb.roots,
        kb.plexuses,
        kb.nerves,
        kb.muscles,
        kb.structures,
        kb.conditions,
        kb.red_flags,
        kb.exercises,
        kb.protocols,
        kb.precautions,
        kb.activities,
        kb.joint_loads,
    ):
        for rid, rec in table.items():
            _refs(p, kb, f"{type(rec).__name__.lower()} {rid}", rec)
    for i, rule in enumerate(kb.staging):
        _refs(p, kb, f"staging[{i}]", rule)
    for i, drule in enumerate(kb.duration_staging):
        _refs(p, kb, f"duration_staging[{i}]", drule)

    for c in kb.concepts.values():
        if c.parent is not None:
            _missing(p, f"concept {c.id}", "parent concept", [c.parent], kb.concepts)
    for r in kb.regions.values():
        if r.parent is not None:
            _missing(p, f"region {r.id}", "parent region", [r.parent], kb.regions)
    for root in kb.roots.values():
        _missing(p, f"root {root.id}", "region", root.dermatome, kb.regions)
    for plexus in kb.plexuses.values():
        _missing(p, f"plexus {plexus.id}", "root", plexus.roots, kb.roots)
    for n in kb.nerves.values():
        where = f"nerve {n.id}"
        _missing(p, where, "parent nerve or plexus", [n.parent], set(kb.nerves) | set(kb.plexuses))
        _missing(p, where, "root", n.roots, kb.roots)
        _missing(p, where, "region", n.sensory, kb.regions)
    for m in kb.muscles.values():
        where = f"muscle {m.id}"
        _missing(p, where, "nerve", m.nerves, kb.nerves)
        _missing(p, where, "root", m.roots, kb.roots)
        _missing(p, where, "action", [*m.actions, *m.accessory_actions], kb.actions)
    for st in kb.structures.values():
        _missing(p, f"structure {st.id}", "region", [st.region], kb.regions)
        if st.part_of is not None:
            _missing(p, f"structure {st.id}", "parent structure", [st.part_of], anatomy)

    for cond in kb.conditions.values():
        where = f"condition {cond.id}"
        _missing(p, where, "region", cond.body_regions, kb.regions)
        _missing(p, where, "lesion site", cond.lesion_sites, set(kb.muscles_of_site))
        _missing(p, where, "muscle", cond.target_muscles, kb.muscles)
        _missing(p, where, "red flag", cond.red_flags, kb.red_flags)
        _missing(p, where, "differential condition", cond.differentials, kb.conditions)
        _missing(p, where, "rehabilitation protocol", [cond.rehab_protocol], kb.protocols)
        if cond.id in cond.differentials:
            p.append(f"{where}: lists itself as a differential")
        for frule in [*cond.findings, *cond.imaging]:
            _missing(p, where, "finding concept", [frule.concept], kb.concepts)
            _missing(p, where, "structure", frule.structures, anatomy)
            _missing(p, where, "action", frule.actions, kb.actions)
            _missing(p, where, "region", frule.regions, kb.regions)

    for flag in kb.red_flags.values():
        _missing(
            p, f"red flag {flag.id}", "concept", [t.concept for t in flag.triggers], kb.concepts
        )
    for ex in kb.exercises.values():
        where = f"exercise {ex.id}"
        _missing(p, where, "target muscle", [*ex.targets, *ex.secondary], kb.muscles)
        _missing(p, where, "joint load", ex.joint_loads, kb.joint_loads)
    for proto in kb.protocols.values():
        post = proto.post_operative
        for stage in [*proto.stages, *(post.stages if post else [])]:
            where = f"protocol {proto.id} stage {stage.id}"
            _missing(p, where, "exercise", stage.extra_exercises, kb.exercises)
            _missing(p, where, "joint load", stage.avoid_loads, kb.joint_loads)
        if post is not None:
            rejoin = {st.id for st in proto.stages}
            _missing(p, f"protocol {proto.id}", "rejoin stage", [post.rejoin], rejoin)
    if GENERAL_POST_OP not in kb.protocols:
        p.append(f"protocols: no general post-operative protocol {GENERAL_POST_OP!r}")
    for act in kb.activities.values():
        _missing(p, f"activity {act.id}", "concept", act.concepts, kb.concepts)
        _missing(p, f"activity {act.id}", "drill exercise", act.drills, kb.exercises)
    for pre in kb.precautions.values():
        _missing(p, f"precaution {pre.id}", "concept", pre.concepts, kb.concepts)
        _missing(p, f"precaution {pre.id}", "joint load", pre.avoid_loads, kb.joint_loads)
    _shared_labels(p, kb)
    _ambiguous(p, "concept", [kb.concepts])
    _ambiguous(p, "anatomy", [kb.muscles, kb.nerves, kb.structures, kb.plexuses], kb)
    _ambiguous(p, "region", [kb.regions])
    if not kb.conditions:
        p.append("conditions: the KB has no conditions")
    if not kb.staging:
        p.append("staging: no denervation stage rules")
    if not kb.duration_staging or kb.duration_staging[-1].max_days is not None:
        p.append("duration_staging: needs rules ending with an open-ended (max_days: null) stage")
    return p
