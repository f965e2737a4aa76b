"""A plain-language handout for the patient: what to do, week by week, and when to get help.

It is written from the same Plan as the clinician's report, so the two never
disagree; clinical detail (references, scores, evidence) is left out and the
stages the patient has already passed are not shown. ``handout`` lays it out
once; the Markdown here and the HTML report both render that layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxrx.model import Plan, RehabStage

INTRO = (
    "Your clinician's working diagnosis is **{condition}**. This sheet lists the exercises for "
    "each stage of your recovery, how often to do them and how hard to work, and the signs that "
    "mean you should get help. Move to the next stage only when you meet its checks — the weeks "
    "are a typical minimum, not a deadline."
)
ALWAYS_URGENT = (
    "your pain becomes severe, wakes you every night or keeps getting worse;",
    "you notice new weakness, numbness, or trouble controlling your bladder or bowels;",
    "you develop a fever, or the area becomes red, hot or rapidly swollen.",
)


@dataclass(frozen=True)
class Period:
    """One stage of the schedule with the weeks it typically covers."""

    label: str
    number: int
    stage: RehabStage


@dataclass(frozen=True)
class Handout:
    condition: str
    urgent: list[str]
    personal: list[tuple[str, str]]
    periods: list[Period]


def _weeks(start: int, st: RehabStage, last: bool) -> tuple[str, int | None]:
    if st.weeks is None:
        return f"From week {start}", None
    end = start + st.weeks - 1
    label = f"Weeks {start}-{end}" if end > start else f"Week {start}"
    return (label + (" and on" if last else ""), end + 1)


def handout(p: Plan) -> Handout:
    """The schedule from the patient's current stage, with week ranges where stages state them."""
    stages = p.rehabilitation.stages
    first = next((i for i, st in enumerate(stages) if st.current), 0)
    urgent = [t.text.removeprefix("Red flag — ") for t in p.referral if t.red_flag]
    periods: list[Period] = []
    week: int | None = 1
    for n, st in enumerate(stages[first:], first + 1):
        if week is None:
            label = "Next"
        else:
            label, week = _weeks(week, st, n == len(stages))
        periods.append(Period(label, n, st))
    return Handout(
        condition=p.condition_name,
        urgent=[*urgent, *ALWAYS_URGENT],
        personal=[(pn.name, pn.advice) for pn in p.personalisation],
        periods=periods,
    )


def _sentence(items: list[str]) -> str:
    return "; ".join(i.rstrip(".") for i in items) + "."


def render_handout(p: Plan, disclaimer: str, patient_label: str | None = None) -> str:
    """Markdown handout with a week-by-week schedule from the patient's current stage."""
    h = handout(p)
    who = f" for {patient_label}" if patient_label else ""
    lines = [f"# Your exercise and recovery plan{who}", ""]
    lines += [INTRO.format(condition=h.condition), "", "## Get help quickly if", ""]
    lines += [f"- {text}" for text in h.urgent]
    lines.append("")
    if h.personal:
        lines += ["## Because of your health, medicines and activities", ""]
        lines += [f"- **{name}:** {advice}" for name, advice in h.personal]
        lines.append("")
    lines += ["## Week by week", ""]
    for period in h.periods:
        st = period.stage
        fv = st.fitt_vp
        lines += [f"### {period.label}: stage {period.number}, {st.name.lower()}", ""]
        lines.append(f"- **How often:** {fv.frequency}. **How long:** {fv.time}.")
        lines.append(f"- **How hard:** {fv.intensity}.")
        lines.append(f"- **How much:** {fv.volume}.")
        lines.append("")
        for ex in st.exercises:
            lines.append(f"- **{ex.name}.** {ex.description} Tips: {'; '.join(ex.cues)}.")
        if st.exercises:
            lines.append("")
        if st.avoid:
            lines += ["Avoid for now: " + _sentence(st.avoid), ""]
        lines += ["Move on when: " + _sentence(st.progress_criteria), ""]
    lines += ["---", "", f"*{disclaimer}*", ""]
    return "\n".join(lines)
