"""A plain-language handout for the patient: what to do, week by week, and when to get help.

It is written from the same Plan as the clinician's report, so the two never
disagree; clinical detail (references, scores, evidence) is left out and the
stages the patient has already passed are not shown.
"""

from __future__ import annotations

from dxrx.model import Plan, RehabStage


def _weeks(start: int, st: RehabStage, last: bool) -> tuple[str, int | None]:
    if st.weeks is None:
        return f"From week {start}", None
    end = start + st.weeks - 1
    label = f"Weeks {start}-{end}" if end > start else f"Week {start}"
    return (label + (" and on" if last else ""), end + 1)


def render_handout(p: Plan, disclaimer: str, patient_label: str | None = None) -> str:
    """Markdown handout with a week-by-week schedule from the patient's current stage."""
    stages = p.rehabilitation.stages
    first = next((i for i, st in enumerate(stages) if st.current), 0)
    who = f" for {patient_label}" if patient_label else ""
    lines = [f"# Your exercise and recovery plan{who}", ""]
    lines += [
        f"Your clinician's working diagnosis is **{p.condition_name}**. This sheet lists the "
        "exercises for each stage of your recovery, how often to do them and how hard to work, "
        "and the signs that mean you should get help. Move to the next stage only when you meet "
        "its checks — the weeks are a typical minimum, not a deadline.",
        "",
        "## Get help quickly if",
        "",
    ]
    urgent = [t.text for t in p.referral if t.text.startswith("Red flag")]
    for text in urgent:
        lines.append(f"- {text.removeprefix('Red flag — ')}")
    lines += [
        "- your pain becomes severe, wakes you every night or keeps getting worse;",
        "- you notice new weakness, numbness, or trouble controlling your bladder or bowels;",
        "- you develop a fever, or the area becomes red, hot or rapidly swollen.",
        "",
    ]
    if p.personalisation:
        lines += ["## Because of your health and medicines", ""]
        lines += [f"- **{pn.name}:** {pn.advice}" for pn in p.personalisation]
        lines.append("")
    lines += ["## Week by week", ""]
    week: int | None = 1
    for n, st in enumerate(stages[first:], first + 1):
        last = n == len(stages)
        if week is None:
            label = "Next"
        else:
            label, week = _weeks(week, st, last)
        fv = st.fitt_vp
        lines += [f"### {label}: stage {n}, {st.name.lower()}", ""]
        lines.append(f"- **How often:** {fv.frequency}. **How long:** {fv.time}.")
        lines.append(f"- **How hard:** {fv.intensity}.")
        lines.append(f"- **How much:** {fv.volume}.")
        lines.append("")
        for ex in st.exercises:
            lines.append(f"- **{ex.name}.** {ex.description} Tips: {'; '.join(ex.cues)}.")
        if st.exercises:
            lines.append("")
        if st.avoid:
            lines.append("Avoid for now: " + "; ".join(a.rstrip(".") for a in st.avoid) + ".")
            lines.append("")
        lines.append(
            "Move on when: " + "; ".join(c.rstrip(".") for c in st.progress_criteria) + "."
        )
        lines.append("")
    lines += ["---", "", f"*{disclaimer}*", ""]
    return "\n".join(lines)
