"""The planner honours each stage's load restrictions and targets the right muscles."""

from __future__ import annotations

from dxrx.kb import KnowledgeBase
from dxrx.plan import plan_for_condition


def test_stage_avoid_loads_remove_unsafe_exercises(kb: KnowledgeBase) -> None:
    for cond in kb.conditions.values():
        protocol = kb.protocols[cond.rehab_protocol]
        plan = plan_for_condition(kb, cond)
        for stage, rx in zip(protocol.stages, plan.rehabilitation.stages, strict=True):
            for ex in rx.exercises:
                loads = set(kb.exercises[ex.id].joint_loads)
                assert not loads & set(stage.avoid_loads), (cond.id, stage.id, ex.id)
                assert kb.exercises[ex.id].level <= stage.max_level


def test_gluteal_tendinopathy_early_stage_avoids_compression(kb: KnowledgeBase) -> None:
    plan = plan_for_condition(kb, kb.conditions["gluteal-tendinopathy"], stage="acute")
    early = plan.rehabilitation.stages[0]
    assert early.current
    ids = {ex.id for ex in early.exercises}
    assert "clamshell" not in ids  # side-lying adduction compresses the gluteal tendons
    assert any("Gluteus medius" in ex.targets for ex in early.exercises)


def test_bone_stress_early_stage_has_no_impact(kb: KnowledgeBase) -> None:
    plan = plan_for_condition(kb, kb.conditions["femoral-neck-stress-fracture"], stage="acute")
    for ex in plan.rehabilitation.stages[0].exercises:
        assert "impact" not in kb.exercises[ex.id].joint_loads
