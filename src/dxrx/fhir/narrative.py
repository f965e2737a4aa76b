"""FHIR resources -> the sentences of a case, as a clinician would have written them.

dxrx reads case text, so each resource becomes words the ingest stage
already understands: narrative values (notes, conclusions, attached reports)
verbatim, and coded observations as short statements ("No Trendelenburg
sign.", "Hip abduction strength: 4/5."). Negatives are phrased with the cues
the ingest negation rules know, so a ``false`` never reads as a finding.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal

from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.domainresource import DomainResource
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.quantity import Quantity

from dxrx.fhir.codes import (
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DXRX_TAG_SYSTEM,
    INTERPRETATION,
    LOINC,
    NARRATIVE_LOINC,
    OBSERVATION_CATEGORY,
)

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|div|li|tr|h[1-6])>|<br\s*/?>", re.I)
_SPACES = re.compile(r"[ \t]+")
_TEXT_TYPES = ("text/plain", "text/markdown", "text/html", "application/xhtml+xml")
# Observation categories -> case section; anything else is history, where the
# ingest stage still moves a sentence that names a modality or an examination.
_CATEGORY_SECTION = {"exam": "examination", "imaging": "imaging"}
_PAST = {"inactive", "remission", "resolved"}
_SUSPECTED = {"unconfirmed", "provisional", "differential"}
_VOID = {"refuted", "entered-in-error"}
VOID_STATUS = frozenset({"cancelled", "entered-in-error"})


def clean(text: str) -> str:
    """Trimmed, with runs of spaces folded; line breaks kept (they can open sections)."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines).strip()


def sentence(text: str) -> str:
    """``text`` closed with a full stop, so neighbouring statements stay separate sentences."""
    text = clean(text)
    if text and text[-1] not in ".!?":
        text += "."
    return text


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def label(cc: CodeableConcept | None) -> str:
    """What a code says in words: its text, else the first coding's display."""
    if cc is None:
        return ""
    if cc.text and cc.text.strip():
        return one_line(cc.text)
    for c in cc.coding or []:
        if c.display and c.display.strip():
            return one_line(c.display)
    return ""


def codes(cc: CodeableConcept | None, system: str) -> list[str]:
    if cc is None:
        return []
    return [c.code for c in cc.coding or [] if c.system == system and c.code]


def dxrx_derived(resource: DomainResource) -> bool:
    """True for a resource dxrx exported (its conclusions are not facts of the case)."""
    tags = resource.meta.tag if resource.meta and resource.meta.tag else []
    return any(t.system == DXRX_TAG_SYSTEM for t in tags)


def notes(resource: Observation | Condition) -> list[str]:
    return [sentence(n.text) for n in resource.note or [] if n.text and n.text.strip()]


def xhtml_text(div: str) -> str:
    return clean(html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", div))))


def _number(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(str(value)).normalize():f}"


def _quantity(q: Quantity) -> str:
    return " ".join(p for p in (_number(q.value), one_line(q.unit or q.code)) if p)


def _value(obs: Observation | ObservationComponent) -> str:
    """A non-boolean value in words; empty when there is none dxrx can state."""
    if obs.valueString and obs.valueString.strip():
        return clean(obs.valueString)
    if obs.valueQuantity is not None:
        return _quantity(obs.valueQuantity)
    if obs.valueCodeableConcept is not None:
        return label(obs.valueCodeableConcept)
    if obs.valueInteger is not None:
        return str(obs.valueInteger)
    if obs.valueRange is not None:
        low, high = obs.valueRange.low, obs.valueRange.high
        parts = [_quantity(q) for q in (low, high) if q is not None]
        return " to ".join(p for p in parts if p)
    return ""


def _mid(text: str) -> str:
    """``text`` to follow a word: "Sensory loss" -> "sensory loss", but "MRI" stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _statement(subject: str, obs: Observation | ObservationComponent) -> str:
    """One coded result as a statement; false and NEG are said with "No", IND with "Possible"."""
    interp = [c for cc in obs.interpretation or [] for c in codes(cc, INTERPRETATION)]
    if obs.valueBoolean is False or (obs.valueBoolean is None and "NEG" in interp):
        return f"No {_mid(subject)}"
    if obs.valueBoolean is True or "POS" in interp:
        return f"{subject}: present"
    value = _value(obs)
    if value:
        return f"{subject}: {value}"
    if "IND" in interp:
        return f"Possible {_mid(subject)}"
    words = [label(cc) for cc in obs.interpretation or []]
    return f"{subject}: {', '.join(w for w in words if w)}" if any(words) else subject


def observation_section(obs: Observation, reported: bool) -> str:
    """The case section of an Observation: its category, its narrative code, else history.

    ``reported``: a DiagnosticReport lists it as a result (an imaging result
    unless its category says otherwise).
    """
    for cc in obs.category or []:
        for code in codes(cc, OBSERVATION_CATEGORY):
            if code in _CATEGORY_SECTION:
                return _CATEGORY_SECTION[code]
    for code in codes(obs.code, LOINC):
        if code in NARRATIVE_LOINC:
            return NARRATIVE_LOINC[code]
    return "imaging" if reported else "history"


def observation_text(obs: Observation) -> list[str]:
    """The sentences one Observation states."""
    if obs.status in VOID_STATUS:
        return []
    if dxrx_derived(obs):
        return notes(obs)  # the case's own words the finding was read from
    name = label(obs.code)
    narrative = any(code in NARRATIVE_LOINC for code in codes(obs.code, LOINC))
    out: list[str] = []
    if narrative:
        value = _value(obs)
        if value:
            out.append(sentence(value))
    elif name:
        site = one_line(obs.bodySite.text if obs.bodySite else None) or label(obs.bodySite)
        subject = f"{name}, {site}" if site and site.lower() not in name.lower() else name
        parts = [_statement(subject, obs)]
        parts += [_statement(label(c.code), c) for c in obs.component or [] if label(c.code)]
        out.append(sentence("; ".join(parts)))
    return out + [n for n in notes(obs) if n not in out]


def condition_text(cond: Condition) -> list[str]:
    """A history statement for a Condition: current, past ("Previous ..., resolved") or
    suspected ("Suspected ..."), with its notes; refuted or entered-in-error ones say nothing."""
    if dxrx_derived(cond):
        return []  # dxrx's own provisional diagnosis
    verification = set(codes(cond.verificationStatus, CONDITION_VERIFICATION))
    if verification & _VOID:
        return []
    clinical = set(codes(cond.clinicalStatus, CONDITION_CLINICAL))
    name = label(cond.code)
    out: list[str] = []
    if name:
        site = " ".join(label(cc) for cc in cond.bodySite or []).strip()
        if site and site.lower() not in name.lower():
            name = f"{name} ({site})"
        if clinical & _PAST:
            out.append(sentence(f"Previous {_mid(name)}, {sorted(clinical & _PAST)[0]}"))
        elif verification & _SUSPECTED:
            out.append(sentence(f"Suspected {_mid(name)}"))
        else:
            out.append(sentence(name))
    return out + notes(cond)


def _attachment_text(att: Attachment) -> str:
    kind = (att.contentType or "text/plain").split(";")[0].strip().lower()
    raw = att.data
    if kind not in _TEXT_TYPES or raw is None:
        return ""  # a PDF or image, or only a URL: nothing dxrx can read offline
    data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
    text = data.decode("utf-8", errors="replace")
    return xhtml_text(text) if "html" in kind else clean(text)


def report_text(report: DiagnosticReport) -> list[str]:
    """What a (non-dxrx) DiagnosticReport says: its name, the attached report and conclusion.

    The resource narrative (``text.div``) is read only when there is neither,
    since it usually restates them.
    """
    if dxrx_derived(report) or report.status in VOID_STATUS:
        return []
    body = [_attachment_text(a) for a in report.presentedForm or []]
    body = [sentence(b) for b in body if b]
    if report.conclusion and report.conclusion.strip():
        body.append(sentence(report.conclusion))
    if not body and report.text is not None and report.text.div:
        div = xhtml_text(report.text.div)
        if div:
            body.append(sentence(div))
    name = label(report.code)
    if (body or report.result) and name and not any(name.lower() in b.lower() for b in body):
        body.insert(0, sentence(name))
    return body
