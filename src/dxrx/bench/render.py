"""Bench results as Markdown, JSON or a self-contained HTML page with PNG plots."""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

from dxrx.errors import InputError


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _acc_table(title: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", "| group | n | top-1 | top-3 | top-5 |", "|---|---|---|---|---|"]
    for name, g in groups.items():
        lines.append(
            f"| {name} | {g['n']} | {_pct(g['top1'])} | {_pct(g['top3'])} | {_pct(g['top5'])} |"
        )
    return [*lines, ""]


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# dxrx bench ({r['source']})",
        "",
        f"cases: {r['n']}",
        f"top-1: {_pct(r['top1'])}",
        f"top-3: {_pct(r['top3'])}",
        f"top-5: {_pct(r['top5'])}",
        f"latency per case: p50 {r['latency_ms']['p50']} ms, p95 {r['latency_ms']['p95']} ms",
        "",
    ]
    cal = r["calibration"]
    if cal:
        lines += [f"calibration: Brier {cal['brier']:.3f}, ECE {cal['ece']:.3f}", ""]
    inv = r["invented_findings"]
    if inv["per_case"] is not None:
        lines += [
            f"invented findings: {inv['per_case']:.2f} per case, "
            f"{_pct(inv['cases_with_any'])} of cases have any",
            "",
        ]
    pq = r["plan_quality"]
    if pq:
        extra = (
            f"complete {_pct(pq['complete'])}, targeting {_pct(pq['mean_targeting'])}, "
            f"progression {_pct(pq['mean_progression'])}, "
            if "complete" in pq
            else ""
        )
        lines += [
            f"plan rubric: {extra}unsafe items {pq['unsafe_items']}, score min "
            f"{pq['score_min']:.2f} median {pq['score_median']:.2f} mean {pq['score_mean']:.2f}",
            "",
        ]
    lines += _acc_table("By region", r["by_region"])
    lines += _acc_table("By modality", r["by_modality"])
    lines += ["## Misses (not in the top 3)", ""]
    for m in r["misses"]:
        got = "; ".join(m["top3"]) or "(nothing named)"
        lines.append(f"- {m['id']}: {m['final_diagnosis']!r} (rank {m['rank']}) — top 3: {got}")
    if r["errors"]:
        lines += ["", "## Errors", ""]
        lines += [f"- {e['id']}: {e['error']}" for e in r["errors"]]
    return "\n".join(lines) + "\n"


def plots(r: dict[str, Any]) -> dict[str, bytes]:
    """PNG plots: reliability diagram (when scores exist) and accuracy by region."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'dxrx[bench]'") from None
    out: dict[str, bytes] = {}
    cal = r["calibration"]
    if cal:
        fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=110)
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        xs = [b["mean_confidence"] for b in cal["bins"]]
        ys = [b["accuracy"] for b in cal["bins"]]
        sizes = [20 + 8 * b["n"] for b in cal["bins"]]
        ax.scatter(xs, ys, s=sizes, color="#1f77b4", zorder=3, label="cases (size = count)")
        ax.plot(xs, ys, color="#1f77b4")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("dxrx probability of its top diagnosis")
        ax.set_ylabel("share of cases where it was right")
        ax.set_title(f"Reliability (Brier {cal['brier']:.3f})")
        ax.legend(loc="upper left", fontsize=8)
        out["reliability"] = _png(fig, plt)
    groups = r["by_region"]
    if groups:
        names = list(groups)
        fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(names)), 4), dpi=110)
        x = range(len(names))
        for i, (key, label) in enumerate((("top1", "top-1"), ("top3", "top-3"), ("top5", "top-5"))):
            ax.bar(
                [v + (i - 1) * 0.27 for v in x], [groups[n][key] for n in names], 0.27, label=label
            )
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"{n}\n(n={groups[n]['n']})" for n in names], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title("Accuracy by region")
        ax.legend(fontsize=8)
        out["by-region"] = _png(fig, plt)
    return out


def _png(fig: Any, plt: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _html_table(title: str, groups: dict[str, dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{g['n']}</td><td>{_pct(g['top1'])}</td>"
        f"<td>{_pct(g['top3'])}</td><td>{_pct(g['top5'])}</td></tr>"
        for k, g in groups.items()
    )
    return (
        f"<h2>{html.escape(title)}</h2><table><thead><tr><th>group</th><th>n</th><th>top-1</th>"
        f"<th>top-3</th><th>top-5</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_html(r: dict[str, Any], images: dict[str, bytes]) -> str:
    """One self-contained page: the plots are embedded, nothing is fetched."""
    summary = html.escape(render_markdown(r).split("## By region")[0])
    figs = "".join(
        f'<figure><img alt="{html.escape(name)} plot" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(name)}</figcaption></figure>'
        for name, png in images.items()
    )
    misses = "".join(
        f"<li><b>{html.escape(str(m['id']))}</b>: {html.escape(m['final_diagnosis'])} "
        f"(rank {m['rank']}) &mdash; top 3: {html.escape('; '.join(m['top3']) or 'none')}</li>"
        for m in r["misses"]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dxrx bench</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 70rem; color: #222; }}
pre {{ background: #f6f6f6; padding: .8rem; white-space: pre-wrap; }}
table {{ border-collapse: collapse; margin-bottom: 1rem; }}
td, th {{ border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }}
figure {{ display: inline-block; margin: 0 1rem 1rem 0; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>dxrx bench ({html.escape(r["source"])})</h1>
<pre>{summary}</pre>
{figs}
{_html_table("By region", r["by_region"])}
{_html_table("By modality", r["by_modality"])}
<h2>Misses (not in the top 3)</h2><ul>{misses}</ul>
</body></html>
"""


def render_bench(result: dict[str, Any], fmt: str, images: dict[str, bytes] | None = None) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    if fmt == "html":
        return render_html(result, plots(result) if images is None else images)
    return render_markdown(result)
