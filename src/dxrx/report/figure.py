"""Anatomy figure: a schematic innervation diagram drawn from the knowledge base.

The figure is computed, not a stock image, so that it shows exactly the anatomy
the localisation reasoned over: spinal roots on the left, then the plexus and
the nerve path to the lesion with the lesion's branches, then the muscles those
nerves supply (a left-to-right tree, as in the classic nerve-muscle charts).
The SVG is self-contained (no scripts, fonts or links) so it can be inlined in
HTML, printed to PDF or saved on its own; every node carries ``data-id`` (the
KB id) and CSS classes so the page around it can restyle or highlight nodes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from xml.sax.saxutils import escape

from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Report

MAX_MUSCLES = 30
"""More rows than this stop being readable on a page; the rest collapse to "+N more"."""

FONT = 12
TITLE_FONT = 15
CHAR_W = 0.56 * FONT  # mean advance of a sans-serif glyph; there are no font metrics offline
BOLD_W = 0.64 * FONT
MARK_R = 8.0
LINE_H = 14
PAD_X = 8
PAD_Y = 5
ROW_GAP = 6
GROUP_GAP = 12
COL_GAP = 44
MARGIN = 16
TAG_W = 62
NERVE_CHARS = 24
MUSCLE_CHARS = 34
MIN_WIDTH = 560

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#222222"
MUTED = "#666666"
LESION = "#c62828"
DISTAL = "#e07b00"
DISTAL_FILL = "#fff3e0"
INVOLVED_FILL = "#f9b49b"
INVOLVED_STROKE = "#b5452b"
SPARED_STROKE = "#8a8a8a"
PLAIN_STROKE = "#9a9a9a"
ROOT_FILL = "#eef1f6"
PLEXUS_FILL = "#e6ecfa"
PLEXUS_STROKE = "#3d5a99"
EDGE = "#9aa3ad"
HATCH_ID = "dxrx-anatomy-hatch"

_LEVEL_ORDER = {"cervical": 0, "thoracic": 1, "lumbar": 2, "sacral": 3, "coccygeal": 4}


# --- what to draw -------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The site and the muscles the figure shows, with each muscle's status."""

    site: str | None
    muscles: tuple[str, ...]
    hidden: tuple[str, ...]
    involved: frozenset[str]
    spared: frozenset[str]
    supplied: frozenset[str]
    territory: frozenset[str]


def _muscle_ids(names: Iterable[str], kb: KnowledgeBase) -> frozenset[str]:
    """KB ids of muscles the report names (it names them by their KB name)."""
    by_name = {m.name.casefold(): m.id for m in kb.muscles.values()}
    found = (n if n in kb.muscles else by_name.get(n.casefold()) for n in names)
    return frozenset(m for m in found if m is not None)


def _site(report: Report, kb: KnowledgeBase) -> str | None:
    site = report.localisation.site_id
    if site in kb.roots or site in kb.plexuses or site in kb.nerves:
        return site
    return None


def _scope(report: Report, kb: KnowledgeBase) -> _Scope | None:
    """The site's territory plus every muscle the case calls involved or spared, capped.

    Involved and spared muscles outside the territory are kept because they are
    what separates this site from its neighbours (an involved muscle it cannot
    explain, a spared one a more proximal lesion would have hit).
    """
    site = _site(report, kb)
    involved = _muscle_ids(report.localisation.affected_muscles, kb)
    if site is None and not involved:
        return None
    spared = _muscle_ids(report.localisation.spared, kb)
    supplied = kb.muscles_of_site.get(site, frozenset()) if site else frozenset()
    in_tree = site is not None and site not in kb.roots
    territory = frozenset(kb.nerve_descendants(site)) if site and in_tree else frozenset()
    ranked = _rank(kb, supplied | involved | spared, involved, spared, territory)
    return _Scope(
        site=site,
        muscles=tuple(ranked[:MAX_MUSCLES]),
        hidden=tuple(ranked[MAX_MUSCLES:]),
        involved=involved,
        spared=spared,
        supplied=frozenset(supplied),
        territory=territory,
    )


def _rank(
    kb: KnowledgeBase,
    muscles: Iterable[str],
    involved: frozenset[str],
    spared: frozenset[str],
    territory: frozenset[str],
) -> list[str]:
    """Involved, then spared, then the rest taking turns across nerves.

    The turns mean a cap trims every nerve's list a little instead of dropping
    the muscles that happen to sort last (often a whole distal branch).
    """
    turn: dict[str, int] = {}
    seen: dict[str, int] = {}
    for muscle in sorted(muscles, key=lambda m: (kb.muscles[m].name, m)):
        nerves = sorted(kb.muscles[muscle].nerves)
        nerve = next((n for n in nerves if n in territory), nerves[0])
        turn[muscle] = seen.get(nerve, 0)
        seen[nerve] = turn[muscle] + 1

    def key(m: str) -> tuple[int, int, str, str]:
        group = 0 if m in involved else 1 if m in spared else 2
        return (group, turn[m] if group == 2 else 0, kb.muscles[m].name, m)

    return sorted(turn, key=key)


@dataclass
class _Graph:
    """The nerve tree to draw: plexus or nerve tops, their children, and muscle suppliers."""

    tops: list[str] = field(default_factory=list)
    children: dict[str, list[str]] = field(default_factory=dict)
    direct: dict[str, list[str]] = field(default_factory=dict)
    suppliers: dict[str, list[str]] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)


def _chain(kb: KnowledgeBase, node: str) -> list[str]:
    """The path from the top of the KB hierarchy (usually a plexus) down to ``node``."""
    chain = [node]
    while chain[-1] in kb.nerves:
        parent = kb.nerves[chain[-1]].parent
        if parent in chain:
            break
        chain.append(parent)
    return chain[::-1]


def _suppliers(kb: KnowledgeBase, scope: _Scope, muscle: str) -> list[str]:
    """The nerves drawn to a muscle: inside the lesion's territory when it supplies it."""
    nerves = sorted(n for n in kb.muscles[muscle].nerves if n in kb.nerves)
    if muscle in scope.supplied and scope.territory:
        inside = [n for n in nerves if n in scope.territory]
        return inside or nerves
    return nerves


def _graph(kb: KnowledgeBase, scope: _Scope) -> _Graph:
    """Union of the paths from plexus to every drawn nerve, with muscles at the leaves."""
    g = _Graph()
    chains = [] if scope.site is None or scope.site in kb.roots else [_chain(kb, scope.site)]
    for muscle in scope.muscles:
        g.suppliers[muscle] = _suppliers(kb, scope, muscle)
        chains.extend(_chain(kb, n) for n in g.suppliers[muscle])
        if g.suppliers[muscle]:
            g.direct.setdefault(g.suppliers[muscle][0], []).append(muscle)
    kids: dict[str, set[str]] = {}
    for chain in chains:
        kids.setdefault(chain[0], set())
        for parent, child in pairwise(chain):
            kids.setdefault(parent, set()).add(child)
            kids.setdefault(child, set())
    tops = {chain[0] for chain in chains}
    name = kb.name_of
    g.children = {k: sorted(v, key=lambda n: (name(n), n)) for k, v in kids.items()}
    g.direct = {k: sorted(v, key=lambda m: (name(m), m)) for k, v in g.direct.items()}
    g.roots = _roots(kb, scope)
    order = _root_order(kb)
    g.tops = sorted(tops, key=lambda t: (_first_root(kb, t, order), name(t), t))
    return g


def _root_order(kb: KnowledgeBase) -> dict[str, int]:
    """Spinal order of the root ids (C1 .. Co1), which sorting by name would scramble."""

    def key(root: str) -> tuple[int, int, str]:
        digits = re.sub(r"\D", "", root)
        return (_LEVEL_ORDER.get(kb.roots[root].level, 9), int(digits or 0), root)

    return {r: i for i, r in enumerate(sorted(kb.roots, key=key))}


def _site_roots(kb: KnowledgeBase, node: str) -> list[str]:
    if node in kb.plexuses:
        return list(kb.plexuses[node].roots)
    if node in kb.nerves:
        return list(kb.nerves[node].roots)
    return [node] if node in kb.roots else []


def _first_root(kb: KnowledgeBase, node: str, order: dict[str, int]) -> int:
    return min((order.get(r, 99) for r in _site_roots(kb, node)), default=99)


def _roots(kb: KnowledgeBase, scope: _Scope) -> list[str]:
    """The roots column: the lesioned root alone, else the site's and the drawn muscles' roots."""
    if scope.site in kb.roots:
        return [scope.site]
    roots = set(_site_roots(kb, scope.site)) if scope.site else set()
    for muscle in scope.muscles:
        roots.update(kb.muscles[muscle].roots)
    order = _root_order(kb)
    return sorted((r for r in roots if r in order), key=order.__getitem__)


# --- layout -------------------------------------------------------------------


@dataclass
class _Box:
    """One drawn node: where it sits, what it says and how it is styled."""

    id: str
    kind: str
    col: int
    lines: list[str]
    tip: str
    classes: list[str]
    y: float = 0.0
    note: str = ""
    tag: str = ""

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_H + 2 * PAD_Y

    @property
    def bold(self) -> bool:
        return "lesion" in self.classes or self.kind == "root"

    @property
    def indent(self) -> float:
        """Left padding of the label; a lesion leaves room for its marker."""
        return PAD_X + (MARK_R if "lesion" in self.classes else 0.0)

    @property
    def text_width(self) -> float:
        """Estimated width the box needs for its label and root note."""
        per_char = BOLD_W if self.bold else CHAR_W
        text = max(len(line) for line in self.lines) * per_char
        if self.note:
            text += (len(self.note) + 2) * CHAR_W
        return self.indent + text + PAD_X


@dataclass
class _Layout:
    boxes: dict[str, _Box]
    col_x: list[float]
    col_w: list[float]
    bottom: float

    @property
    def width(self) -> float:
        return self.col_x[-1] + self.col_w[-1] + TAG_W + MARGIN


def _wrap(text: str, chars: int, most: int) -> list[str]:
    """At most ``most`` lines; the full text stays in the node's tooltip."""
    lines = textwrap.wrap(text, chars) or [text]
    if len(lines) > most:
        rest = textwrap.shorten(" ".join(lines[most - 1 :]), chars, placeholder=" …")
        lines = [*lines[: most - 1], rest]
    return lines


def _is_plexus_part(kb: KnowledgeBase, node: str) -> bool:
    """A plexus, or a trunk/cord: a division whose chain up to the plexus is all divisions."""
    while node in kb.nerves and kb.nerves[node].kind == "division":
        node = kb.nerves[node].parent
    return node in kb.plexuses


def _root_range(roots: Iterable[str], order: dict[str, int]) -> str:
    """``L4-S1`` (en dash) for consecutive roots, commas between runs, as the charts write them."""
    ranked = sorted((r for r in roots if r in order), key=order.__getitem__)
    runs: list[list[str]] = []
    for root in ranked:
        if runs and order[root] == order[runs[-1][-1]] + 1:
            runs[-1].append(root)
        else:
            runs.append([root])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


class _Placer:
    """Walks the nerve tree top-down, stacking muscles as rows and centring nerves on them."""

    def __init__(self, kb: KnowledgeBase, scope: _Scope, g: _Graph, base: int, top: float):
        self.kb, self.scope, self.g, self.base = kb, scope, g, base
        self.cursor = top
        self.boxes: dict[str, _Box] = {}
        self.order = _root_order(kb)
        self.distal = self._distal()
        self.muscle_col = base + 1 + max((self._depth(n) for n in g.children), default=0)

    def _distal(self) -> set[str]:
        site = self.scope.site
        if site in self.kb.roots:
            return set(self.g.children)
        return {n for n in self.g.children if n in self.scope.territory and n != site}

    def _depth(self, node: str) -> int:
        return len(_chain(self.kb, node)) - 1

    def place_all(self) -> None:
        for i, top in enumerate(self.g.tops):
            if i:
                self.cursor += GROUP_GAP
            self._place(top)

    def _place(self, node: str) -> None:
        box = self._nerve_box(node)
        start = self.cursor
        for muscle in self.g.direct.get(node, []):
            self._muscle(muscle)
        for i, child in enumerate(self.g.children[node]):
            if i or self.g.direct.get(node):
                self.cursor += GROUP_GAP - ROW_GAP
            self._place(child)
        self.cursor = max(self.cursor, start + box.height + ROW_GAP)
        box.y = (start + self.cursor - ROW_GAP) / 2

    def _muscle(self, muscle: str) -> None:
        box = self._muscle_box(muscle)
        box.y = self.cursor + box.height / 2
        self.cursor += box.height + ROW_GAP

    def _nerve_box(self, node: str) -> _Box:
        kb, site = self.kb, self.scope.site
        plexus = _is_plexus_part(kb, node)
        name = kb.name_of(node)
        label = name.split(" (")[0] if node in kb.plexuses else name
        classes = ["plexus" if plexus else "nerve"]
        classes += ["lesion"] * (node == site) + ["distal"] * (node in self.distal)
        tip = f"{name} ({'plexus' if node in kb.plexuses else kb.site_kind(node)})"
        roots = _root_range(_site_roots(kb, node), self.order)
        tip += f"; roots {roots}" if roots else ""
        if node == site:
            tip += "; lesion site"
        elif node in self.distal:
            tip += "; distal to the lesion"
        col = self.base + self._depth(node)
        box = _Box(node, classes[0], col, _wrap(label, NERVE_CHARS, 3), tip, classes)
        self.boxes[node] = box
        return box

    def _muscle_box(self, muscle: str) -> _Box:
        kb, scope = self.kb, self.scope
        rec = kb.muscles[muscle]
        classes = ["muscle"]
        if muscle in scope.involved:
            classes.append("involved")
            status, tag = "involved (reported denervated or weak)", "involved"
        elif muscle in scope.spared:
            classes.append("spared")
            status, tag = "stated as spared", "spared"
        elif muscle in scope.supplied:
            status, tag = "supplied by the lesion site, not reported involved", ""
        else:
            status, tag = "not supplied by the lesion site", ""
        roots = _root_range(rec.roots, self.order)
        nerves = ", ".join(kb.name_of(n) for n in rec.nerves)
        tip = f"{rec.name}: {nerves}" + (f"; roots {roots}" if roots else "") + f"; {status}"
        box = _Box(
            muscle, "muscle", self.muscle_col, _wrap(rec.name, MUSCLE_CHARS, 2), tip, classes
        )
        box.note, box.tag = roots, tag
        self.boxes[muscle] = box
        return box

    def place_roots(self, top: float) -> None:
        """Stack the roots, centred on the tree, in spinal order."""
        roots = self.g.roots
        if not roots:
            return
        height = len(roots) * (LINE_H + 2 * PAD_Y + ROW_GAP) - ROW_GAP
        y = max(top, (top + self.cursor - ROW_GAP - height) / 2)
        for root in roots:
            lesion = root == self.scope.site
            classes = ["root", *(["lesion"] if lesion else [])]
            tip = _root_tip(self.kb, root, lesion)
            box = _Box(root, "root", 0, [root], tip, classes)
            box.y = y + box.height / 2
            y += box.height + ROW_GAP
            self.boxes[root] = box
        self.cursor = max(self.cursor, y)

    def place_more(self) -> None:
        """One row that counts the muscles left out, naming them in its tooltip."""
        hidden = self.scope.hidden
        if not hidden:
            return
        self.cursor += GROUP_GAP - ROW_GAP
        names = sorted(self.kb.muscles[m].name for m in hidden)
        tip = "Not drawn: " + ", ".join(names)
        label = [f"+{len(hidden)} more muscles"]
        box = _Box("more", "more", self.muscle_col, label, tip, ["muscle", "more"])
        box.y = self.cursor + box.height / 2
        self.cursor += box.height + ROW_GAP
        self.boxes["more"] = box


def _root_tip(kb: KnowledgeBase, root: str, lesion: bool) -> str:
    """Tooltip of a root node: its name, reflex and whether it is the lesion."""
    rec = kb.roots[root]
    tip = rec.name + (f"; reflex: {rec.reflex}" if rec.reflex else "")
    return tip + ("; lesion site" if lesion else "")


def _columns(boxes: Iterable[_Box], ncols: int) -> tuple[list[float], list[float]]:
    """Column widths from the longest label in each column, so nothing overlaps."""
    widths = [0.0] * ncols
    for box in boxes:
        widths[box.col] = max(widths[box.col], box.text_width)
    xs, x = [], float(MARGIN)
    for w in widths:
        xs.append(x)
        x += w + COL_GAP
    return xs, widths


def _layout(kb: KnowledgeBase, scope: _Scope, g: _Graph, top: float) -> _Layout:
    base = 1 if g.roots else 0
    placer = _Placer(kb, scope, g, base, top)
    placer.place_all()
    placer.place_more()
    placer.place_roots(top)
    ncols = max(box.col for box in placer.boxes.values()) + 1
    xs, ws = _columns(placer.boxes.values(), ncols)
    return _Layout(placer.boxes, xs, ws, placer.cursor)


# --- drawing ------------------------------------------------------------------


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{_attr(v)}"' for k, v in attrs.items())
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{escape(text)}</text>'


def _style(box: _Box) -> tuple[str, str, float]:
    """Fill, stroke and stroke width of a node, from its classes."""
    c = set(box.classes)
    if "lesion" in c:
        fill = ROOT_FILL if "root" in c else PLEXUS_FILL if "plexus" in c else "#ffffff"
        return fill, LESION, 3.5
    if "involved" in c:
        return INVOLVED_FILL, INVOLVED_STROKE, 1.5
    if "spared" in c:
        return f"url(#{HATCH_ID})", SPARED_STROKE, 1.2
    if "distal" in c:
        return DISTAL_FILL, DISTAL, 2.0
    if "root" in c:
        return ROOT_FILL, "#5b6b7f", 1.2
    if "plexus" in c:
        return PLEXUS_FILL, PLEXUS_STROKE, 1.2
    if "more" in c:
        return "#ffffff", PLAIN_STROKE, 1.0
    return "#ffffff", PLAIN_STROKE if "muscle" in c else "#555555", 1.2


def _node(box: _Box, lay: _Layout) -> Iterator[str]:
    x, w = lay.col_x[box.col], lay.col_w[box.col]
    y0 = box.y - box.height / 2
    fill, stroke, sw = _style(box)
    dash = ' stroke-dasharray="4 3"' if box.kind == "more" else ""
    yield f'<g class="{" ".join(box.classes)}" data-id="{_attr(box.id)}">'
    yield f"<title>{escape(box.tip)}</title>"
    yield (
        f'<rect x="{_num(x)}" y="{_num(y0)}" width="{_num(w)}" height="{_num(box.height)}" '
        f'rx="5" fill="{fill}" stroke="{stroke}" stroke-width="{_num(sw)}"{dash}/>'
    )
    weight = "bold" if box.bold else "normal"
    ink = MUTED if box.kind == "more" else INK
    for i, line in enumerate(box.lines):
        base = y0 + PAD_Y + LINE_H * i + LINE_H * 0.78
        yield _text(x + box.indent, base, line, fill=ink, font_weight=weight)
    if box.note:
        base = box.y + FONT * 0.36
        yield _text(x + w - PAD_X, base, box.note, fill=MUTED, text_anchor="end")
    if box.tag:
        color = INVOLVED_STROKE if box.tag == "involved" else MUTED
        yield _text(x + w + 6, box.y + FONT * 0.36, box.tag, fill=color, font_style="italic")
    if "lesion" in box.classes:
        yield from _cross(x, box.y)
    yield "</g>"


def _cross(cx: float, cy: float) -> Iterator[str]:
    """The lesion marker: a red ✕ in a circle on the node's incoming edge."""
    r, d = MARK_R, 4.0
    yield (
        f'<circle class="lesion-marker" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" '
        f'fill="#ffffff" stroke="{LESION}" stroke-width="2"/>'
    )
    for sx in (-1, 1):
        yield (
            f'<line x1="{_num(cx - d)}" y1="{_num(cy - d * sx)}" x2="{_num(cx + d)}" '
            f'y2="{_num(cy + d * sx)}" stroke="{LESION}" stroke-width="2.4" '
            'stroke-linecap="round"/>'
        )


def _edge(a: _Box, b: _Box, lay: _Layout, distal: bool, secondary: bool = False) -> str:
    """A curve from a's right side to b's left.

    Across several columns it bends in the first gap and runs level at b's
    height, which keeps long nerve-to-muscle edges off other nodes; where a
    box sits in that corridor it curves the whole way instead.
    """
    x1 = lay.col_x[a.col] + lay.col_w[a.col]
    x2 = lay.col_x[b.col]
    y1, y2 = a.y, b.y
    bend = min(x2, x1 + COL_GAP) if _corridor_free(lay, a, b) else x2
    mid = (x1 + bend) / 2
    d = f"M{_num(x1)} {_num(y1)}C{_num(mid)} {_num(y1)} {_num(mid)} {_num(y2)} "
    d += f"{_num(bend)} {_num(y2)}"
    if bend < x2:
        d += f"L{_num(x2)} {_num(y2)}"
    color, width = (DISTAL, 2.2) if distal else (EDGE, 1.4)
    dash = ' stroke-dasharray="5 4"' if secondary else ""
    cls = "edge distal" if distal else "edge"
    return (
        f'<path class="{cls}" data-from="{_attr(a.id)}" data-to="{_attr(b.id)}" d="{d}" '
        f'fill="none" stroke="{color}" stroke-width="{_num(width)}"{dash}/>'
    )


def _corridor_free(lay: _Layout, a: _Box, b: _Box) -> bool:
    """Whether a level run at b's height crosses no box in the columns between a and b."""
    return not any(
        a.col < box.col < b.col and abs(box.y - b.y) < box.height / 2 + 3
        for box in lay.boxes.values()
    )


def _edges(kb: KnowledgeBase, scope: _Scope, g: _Graph, lay: _Layout) -> Iterator[str]:
    boxes = lay.boxes
    hot = {b.id for b in boxes.values() if "distal" in b.classes or "lesion" in b.classes}
    root_lesion = scope.site in kb.roots
    for root in g.roots:
        for top in g.tops:
            if _feeds(kb, root, top, g):
                yield _edge(boxes[root], boxes[top], lay, root_lesion)
    for parent, kids in sorted(g.children.items()):
        for kid in kids:
            yield _edge(boxes[parent], boxes[kid], lay, parent in hot and kid in hot)
    for muscle in scope.muscles:
        for i, nerve in enumerate(g.suppliers[muscle]):
            yield _edge(boxes[nerve], boxes[muscle], lay, nerve in hot, secondary=i > 0)


def _feeds(kb: KnowledgeBase, root: str, top: str, g: _Graph) -> bool:
    """Whether a root sends fibres into a drawn tree (its top lists it, or a muscle under it)."""
    if root in _site_roots(kb, top):
        return True
    stack = [top]
    while stack:
        node = stack.pop()
        if any(root in kb.muscles[m].roots for m in g.direct.get(node, [])):
            return True
        stack.extend(g.children.get(node, []))
    return False


LEGEND = (
    ("lesion", "Lesion site"),
    ("distal", "Nerve distal to the lesion"),
    ("involved", "Involved muscle"),
    ("spared", "Stated as spared"),
    ("supplied", "Other supplied muscle"),
)


def _legend(x0: float, y0: float, width: float, has_site: bool) -> tuple[list[str], float]:
    """Swatches in rows that wrap at the figure width; returns the SVG and the height used."""
    styles = {
        "lesion": ("#ffffff", LESION, 3.0),
        "distal": (DISTAL_FILL, DISTAL, 2.0),
        "involved": (INVOLVED_FILL, INVOLVED_STROKE, 1.5),
        "spared": (f"url(#{HATCH_ID})", SPARED_STROKE, 1.2),
        "supplied": ("#ffffff", PLAIN_STROKE, 1.2),
    }
    out = ['<g class="legend">']
    x, y = x0, y0
    for key, label in LEGEND:
        if not has_site and key in ("lesion", "distal"):
            continue
        item_w = 22 + 6 + len(label) * CHAR_W + 18
        if x > x0 and x + item_w > width - MARGIN:
            x, y = x0, y + 22
        fill, stroke, sw = styles[key]
        out.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="22" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{_num(sw)}"/>'
        )
        out.append(_text(x + 28, y + 11, label, fill=INK))
        x += item_w
    out.append("</g>")
    return out, y + 22 - y0


def _headings(lay: _Layout, y: float) -> Iterator[str]:
    """Column group labels, each over the first column holding that kind of node."""
    groups: list[tuple[str, tuple[str, ...]]] = [
        ("Roots", ("root",)),
        ("Plexus and nerves", ("plexus", "nerve")),
        ("Muscles (roots)", ("muscle", "more")),
    ]
    for label, kinds in groups:
        cols = [box.col for box in lay.boxes.values() if box.kind in kinds]
        if cols:
            yield _text(lay.col_x[min(cols)], y, label, fill=MUTED, font_weight="bold")


def _title(report: Report, scope: _Scope, kb: KnowledgeBase) -> str:
    """The headline the brief asks for: where the lesion is and how much it explains."""
    if scope.site is None:
        return f"Involved muscles by nerve — no single lesion site ({len(scope.involved)} involved)"
    n = len(scope.supplied)
    k = len(scope.supplied & scope.involved)
    site = report.localisation.site or kb.name_of(scope.site)
    return f"Lesion: {site} — {n} muscles supplied, {k} involved"


def _defs() -> str:
    return (
        f'<defs><pattern id="{HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f7f7f7"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#d6d6d6" stroke-width="2"/></pattern></defs>'
    )


def anatomy_svg(report: Report, kb: KnowledgeBase) -> str | None:
    """The innervation diagram of the case as inline SVG, or None when there is nothing to draw.

    Nothing to draw means no localised site and no involved muscle the KB knows.
    The output depends only on the report and the KB, in sorted orders, so the
    same case always gives the same bytes.
    """
    scope = _scope(report, kb)
    if scope is None:
        return None
    g = _graph(kb, scope)
    title = _title(report, scope, kb)
    probe = _layout(kb, scope, g, 0.0)
    width = max(probe.width, MIN_WIDTH, len(title) * TITLE_FONT * 0.6 + 2 * MARGIN)
    legend, legend_h = _legend(MARGIN, MARGIN + 30, width, scope.site is not None)
    heading_y = MARGIN + 30 + legend_h + 14
    lay = _layout(kb, scope, g, heading_y + 12)
    height = lay.bottom + MARGIN
    label = f"Innervation diagram. {title}."
    if scope.spared:
        label += " Stated as spared: " + ", ".join(sorted(kb.name_of(m) for m in scope.spared))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dxrx-anatomy" role="img" '
        f'aria-label="{_attr(label)}" viewBox="0 0 {_num(width)} {_num(height)}" width="100%" '
        f'style="max-width:{_num(width)}px;height:auto" font-family="{_attr(FONT_FAMILY)}" '
        f'font-size="{FONT}">',
        f"<title>{escape(label)}</title>",
        _defs(),
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="#ffffff"/>',
        _text(
            MARGIN,
            MARGIN + 12,
            title,
            fill=INK,
            font_size=TITLE_FONT,
            font_weight="bold",
            class_="figure-title",
        ),
        *legend,
        *_headings(lay, heading_y),
        *_edges(kb, scope, g, lay),
        *(part for box in _sorted_boxes(lay) for part in _node(box, lay)),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _sorted_boxes(lay: _Layout) -> list[_Box]:
    return sorted(lay.boxes.values(), key=lambda b: (b.col, b.y, b.id))
