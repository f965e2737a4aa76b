"""Markdown work-up: what a senior clinician would write, with every claim sourced."""

from __future__ import annotations

from dxrx.model import Evidence, Finding, Plan, RehabStage, Report, Span

_QUOTE_MAX = 140


def _quote(span: Span | None) -> str:
    if span is None:
        return ""
    text = " ".join(span.text.split())
    if len(text) > _QUOTE_MAX:
        text = text[: _QUOTE_MAX - 1].rstrip() + "…"
    return f" — “{text}”"


def _refs(ids: list[str]) -> str:
    return f" [{', '.join(ids)}]" if ids else ""


def _evidence(e: Evidence) -> str:
    sign = "+" if e.weight > 0 else ""
    return f"{e.statement} ({sign}{e.weight:.2f}){_quote(e.span)}{_refs(e.refs)}"


def patient_line(r: Report) -> str:
    c = r.case
    bits = []
    if c.age is not None:
        bits.append(f"{c.age}-year-old" if c.age else "infant")
    if c.sex:
        bits.append(c.sex)
    line = " ".join(bits) or "patient (age and sex not stated)"
    extra = []
    if c.side:
        extra.append(f"side: {c.side}")
    if c.duration_days is not None:
        weeks = c.duration_days / 7
        span = f"about {weeks:.0f} weeks" if weeks >= 1 else f"{c.duration_days:.0f} days"
        extra.append(f"duration: {span} (“{(c.duration_text or '').strip()}”)")
    if c.onset:
        extra.append(f"onset: {c.onset}")
    if c.modalities:
        extra.append("imaging: " + ", ".join(c.modalities))
    return line + (" · " + " · ".join(extra) if extra else "")


def _finding_row(f: Finding) -> str:
    status = "absent" if f.negated else ("possible" if f.uncertain else "present")
    text = " ".join(f.span.text.split()).replace("|", "/")
    return f"| {f.label} | {status} | {f.span.section} | “{text}” |"


def _stage(s: RehabStage, n: int) -> list[str]:
    post = " (post-operative)" if s.post_operative else ""
    title = f"### Stage {n}: {s.name}{post}" + (" — start here" if s.current else "")
    out = [title, ""]
    out.append("**Goals:** " + "; ".join(s.goals))
    out.append("")
    out.append("**Entry criteria:** " + "; ".join(s.entry_criteria))
    out.append("")
    fv = s.fitt_vp
    out += [
        "| FITT-VP | Prescription |",
        "|---|---|",
        f"| Frequency | {fv.frequency} |",
        f"| Intensity | {fv.intensity} |",
        f"| Time | {fv.time} |",
        f"| Type | {fv.type} |",
        f"| Volume | {fv.volume} |",
        f"| Progression | {fv.progression} |",
        "",
    ]
    if s.exercises:
        out.append("**Exercises**")
        out.append("")
        for ex in s.exercises:
            out.append(
                f"- **{ex.name}** ({ex.category}; {ex.why}). {ex.description} "
                f"Cues: {'; '.join(ex.cues)}.{_refs(ex.refs)}"
            )
        out.append("")
    if s.avoid:
        out.append("**Avoid:** " + "; ".join(s.avoid))
        out.append("")
    out.append("**Progress when:** " + "; ".join(s.progress_criteria))
    out.append("")
    return out


def render_markdown(r: Report) -> str:
    lines: list[str] = ["# dxrx work-up", ""]
    lines += [f"**Patient:** {patient_line(r)}", ""]
    lead = r.differential[0]
    stage = f", {r.leading.stage}" if r.leading.stage else ""
    lines += [
        f"**Most consistent diagnosis:** {lead.name}{stage} (score {lead.score:.2f}; "
        f"ICD-10 {', '.join(lead.icd10)})",
        "",
    ]
    if r.red_flags:
        lines.append("**Red flags raised:** " + "; ".join(f.name for f in r.red_flags))
        lines.append("")

    lines += [
        "## Findings extracted from the case",
        "",
        "| Finding | Status | Section | Source |",
        "|---|---|---|---|",
    ]
    lines += [_finding_row(f) for f in r.case.findings]
    if not r.case.findings:
        lines.append("| (no recognised findings) | | | |")
    lines.append("")

    lines += ["## Imaging read-out", "", r.imaging.summary, ""]
    lines += [
        f"**Stage:** {r.imaging.stage or 'not determined'} — {r.imaging.stage_basis}"
        f"{_refs(r.imaging.stage_refs)}",
        "",
    ]

    loc = r.localisation
    lines += ["## Localisation", ""]
    if loc.site:
        lines.append(f"**{loc.site}** ({loc.kind}) explains: {', '.join(loc.explains)}.")
        if loc.unexplained:
            lines.append(f"Not explained: {', '.join(loc.unexplained)}.")
        if loc.spared:
            lines.append(f"Stated as spared: {', '.join(loc.spared)}.")
        lines.append("")
        lines.append(loc.reasoning + _refs(loc.refs))
    else:
        lines.append(loc.reasoning)
        if loc.affected_muscles:
            lines.append(f"Involved muscles: {', '.join(loc.affected_muscles)}.")
    lines.append("")

    lines += ["## Differential diagnosis", ""]
    for i, d in enumerate(r.differential, 1):
        lines.append(f"{i}. **{d.name}** — score {d.score:.3f}")
        for e in d.for_[:6]:
            lines.append(f"   - for: {_evidence(e)}")
        for e in d.against[:4]:
            lines.append(f"   - against: {_evidence(e)}")
        if not d.for_ and not d.against:
            lines.append("   - no specific evidence either way; ranked by prior")
    lines.append("")

    lines += ["## Red flags", ""]
    if r.red_flags:
        for f in r.red_flags:
            ev = "; ".join(e.statement + _quote(e.span) for e in f.evidence)
            lines.append(
                f"- **{f.name}** ({f.urgency}): {ev}. Concern: {f.concern}. "
                f"Action: {f.action}{_refs(f.refs)}"
            )
    else:
        lines.append(
            "- None of the screened red flags is stated in the case "
            "(night or rest pain, weight loss, fever, cancer history, saddle "
            "anaesthesia, sphincter change, progressive deficit, trauma in the elderly). "
            "Absence from the text is not absence in the patient: ask."
        )
    for e in r.red_flags_screened_negative:
        lines.append(f"- screened negative: {e.statement}{_quote(e.span)}")
    lines.append("")

    lines += render_plan_sections(r.plan)

    lines += ["## References", ""]
    lines += [f"- **{rid}**: {cit}" for rid, cit in r.references.items()]
    lines.append("")
    lines += [
        "---",
        "",
        f"*{r.disclaimer}*",
        "",
        f"dxrx {r.dxrx_version} · knowledge base {r.kb_version}",
        "",
    ]
    return "\n".join(lines)


def render_plan_sections(p: Plan) -> list[str]:
    """Treatment, referral and staged rehabilitation; shared by the work-up and ``dxrx plan``."""
    lines = [f"## Treatment pathway: {p.condition_name}", ""]
    for t in p.treatment:
        crit = f" *When:* {t.criteria}" if t.criteria else ""
        flag = {"withheld": " (WITHHELD for this patient)", "caution": " (CAUTION)"}.get(
            t.status, ""
        )
        note = f" *{t.caution}*" if t.caution else ""
        lines.append(f"- **{t.phase.capitalize()}{flag}:** {t.text}{crit}{note}{_refs(t.refs)}")
    lines.append("")
    if p.personalisation:
        lines += ["## Personalised for this patient", ""]
        for pn in p.personalisation:
            src = f' ("{pn.span.text.strip()}")' if pn.span else ""
            changed = "; ".join(pn.changes) if pn.changes else "no item had to change"
            lines.append(
                f"- **{pn.name}** — from {pn.trigger}{src}. Changes: {changed}. "
                f"{pn.advice}{_refs(pn.refs)}"
            )
        lines.append("")
    lines += ["## When to refer", ""]
    for t in p.referral:
        who = f" → {t.refer_to}" if t.refer_to else ""
        crit = f" *When:* {t.criteria}" if t.criteria else ""
        lines.append(f"- {t.text.rstrip('.')}{who}.{crit}{_refs(t.refs)}")
    lines.append("")
    rehab = p.rehabilitation
    lines += [f"## Rehabilitation: {rehab.protocol_name}", ""]
    if rehab.target_muscles:
        lines.append(f"Target muscles ({rehab.target_basis}): {', '.join(rehab.target_muscles)}.")
        lines.append("")
    if rehab.start_basis:
        src = f' ("{" ".join(rehab.start_span.text.split())}")' if rehab.start_span else ""
        lines += [f"Starting stage: {rehab.start_basis}{src}.", ""]
    for note in p.safety:
        lines.append(f"> Safety: {note}")
        lines.append("")
    for n, st in enumerate(rehab.stages, 1):
        lines += _stage(st, n)
    lines.append(f"Protocol references:{_refs(rehab.refs)}")
    lines.append("")
    return lines


def render_plan_markdown(
    p: Plan, references: dict[str, str], disclaimer: str, kb_version: str
) -> str:
    """``dxrx plan``: a condition's pathway and protocol without a case."""
    lines = [f"# dxrx plan: {p.condition_name}", ""]
    lines += render_plan_sections(p)
    lines += ["## References", ""]
    lines += [f"- **{rid}**: {cit}" for rid, cit in references.items()]
    lines += ["", "---", "", f"*{disclaimer}*", "", f"knowledge base {kb_version}", ""]
    return "\n".join(lines)
