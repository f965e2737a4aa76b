"""Grade results as Markdown for people, JSON (stable keys) for tools."""

from __future__ import annotations

from dxrx.grade import WEIGHTS, GradeResult


def _yes(flag: bool | None) -> str:
    return "not assessable" if flag is None else "yes" if flag else "no"


def render_grade(result: GradeResult, fmt: str) -> str:
    if fmt == "json":
        return result.model_dump_json(indent=2) + "\n"
    dx = result.diagnosis
    title = f"# dxrx grade{': ' + result.case_id if result.case_id else ''}"
    parts = ", ".join(f"{k} {v:.2f} x {WEIGHTS[k]:.2f}" for k, v in result.components.items())
    verdict = "correct" if dx.correct else f"rank {dx.rank}" if dx.rank else "not named"
    lines = [title, "", f"**Score {result.score:.2f}** ({parts})", "", "## Diagnosis", ""]
    lines += [
        f"- Ground truth: {dx.truth}",
        f"- Main diagnosis named: {dx.named or '(none found)'}",
        f"- Verdict: **{verdict}**",
        f"- Diagnoses the work-up names: {'; '.join(dx.differential) or '(none in the KB)'}",
        "",
        f"## Invented findings ({len(result.invented_findings)})",
        "",
    ]
    lines += [f'- "{i.text}" — {i.why}' for i in result.invented_findings] or ["- none"]
    lines += ["", f"## Omissions ({len(result.omissions)})", ""]
    lines += [f"- **{o.finding}** — {o.why}" for o in result.omissions] or ["- none"]
    p = result.plan
    lines += ["", "## Plan", "", "| Stage | FITT-VP present | Missing |", "|---|---|---|"]
    for st in p.stages:
        lines.append(
            f"| {st.name} | {', '.join(st.present) or '-'} | {', '.join(st.missing) or '-'} |"
        )
    lines += [
        "",
        f"- Stages with all six FITT-VP elements: {p.fitt_complete_stages} of {len(p.stages)}",
        f"- Trains the affected muscles: {_yes(p.trains_affected_muscles)}"
        + (f" ({', '.join(p.trained)})" if p.trained else ""),
        f"- Contraindicated advice: {len(p.contraindicated) or 'none'}",
    ]
    lines += [f'  - "{u.text}" — {u.why}' for u in p.contraindicated]
    lines += [
        f"- Referral advice: {_yes(p.referral_advice)}; red-flag advice: {_yes(p.red_flag_advice)};"
        f" disclaimer: {_yes(p.disclaimer)}",
        "",
        f"*knowledge base {result.kb_version}*",
        "",
    ]
    return "\n".join(lines)
