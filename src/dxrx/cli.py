"""Command-line interface: a thin shell over the pipeline functions."""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dxrx.errors import InputError, OutputError
from dxrx.kb.loader import KbError

app = typer.Typer(
    help="dxrx: offline work-up of musculoskeletal and peripheral-nerve cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Knowledge-base tools.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")


class ReportFormat(StrEnum):
    md = "md"
    json = "json"
    handout = "handout"
    html = "html"
    pdf = "pdf"
    fhir = "fhir"


class BenchFormat(StrEnum):
    md = "md"
    json = "json"
    html = "html"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"dxrx: error: {message}", err=True)
    raise typer.Exit(code)


def _emit(text: str | bytes, output: Path | None) -> None:
    """Print, or write atomically so a failed run never leaves a half-written file."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
            sys.stdout.flush()
        else:
            sys.stdout.write(text)
        return
    target = output.expanduser()
    if target.is_dir():
        _fail(f"{target} is a directory; give a file name for -o")
    if target.exists() and not target.is_file():
        # a device or pipe (/dev/null, a FIFO): write through it, never replace it
        try:
            with target.open("wb") as fh:
                fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        except OSError as exc:
            _fail(f"cannot write {target}: {exc.strerror or exc}")
        return
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        _fail(f"cannot write {target}: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a normal file, not mkstemp's private 0600
        os.replace(tmp, target)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror or exc}")
    typer.echo(f"wrote {target}", err=True)


@app.command()
def analyze(
    case: Annotated[
        str,
        typer.Argument(
            help="Case file (.txt free text, .json case or FHIR R4 Bundle), or - for stdin."
        ),
    ],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.md,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Work up one case: imaging read-out, localisation, differential, red flags and plan."""
    from dxrx.ingest import load_case
    from dxrx.kb import load_kb
    from dxrx.pipeline import analyze_case
    from dxrx.report import render, render_pdf_report

    try:
        kb = load_kb()
        report = analyze_case(load_case(case, kb), kb)
        if fmt is ReportFormat.pdf:
            if output is None and sys.stdout.isatty():
                _fail("PDF is binary: give a file with -o (or redirect the output)")
            _emit(render_pdf_report(report, kb), output)
        else:
            _emit(render(report, fmt.value, kb), output)
    except InputError as exc:
        _fail(str(exc))
    except OutputError as exc:
        _fail(str(exc), 1)
    except KbError as exc:
        _fail(str(exc), 1)


@app.command()
def bench(
    cases: Annotated[
        Path, typer.Argument(help="Case set: one JSON case per line, with final_diagnosis.")
    ],
    fmt: Annotated[BenchFormat, typer.Option("--format", "-f")] = BenchFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    reports: Annotated[
        Path | None,
        typer.Option(
            "--reports", help="Grade external work-ups: a folder of <case id>.md/.txt/.json."
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Local worker processes.")] = 1,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Run on a Ray cluster at this address ('local' starts one)."),
    ] = None,
    plots: Annotated[
        Path | None, typer.Option("--plots", help="Also save the PNG plots in this folder.")
    ] = None,
) -> None:
    """Accuracy (top-1/3/5, by region and modality), calibration, invented findings,
    plan rubric and latency of dxrx — or of external work-ups — over a case set."""
    from dxrx.bench import render_bench, run_bench
    from dxrx.bench.render import plots as make_plots

    try:
        result = run_bench(cases, reports=reports, workers=workers, ray_address=ray)
        images = make_plots(result) if plots is not None or fmt is BenchFormat.html else None
        if plots is not None and images is not None:
            if not plots.is_dir():
                _fail(f"--plots: folder {plots} does not exist")
            for name, png in images.items():
                (plots / f"bench-{name}.png").write_bytes(png)
    except InputError as exc:
        _fail(str(exc))
    except KbError as exc:
        _fail(str(exc), 1)
    _emit(render_bench(result, fmt.value, images), output)


class GradeFormat(StrEnum):
    md = "md"
    json = "json"


@app.command()
def grade(
    report: Annotated[
        str,
        typer.Argument(help="Work-up to grade: free text / Markdown, or a dxrx JSON report."),
    ],
    case: Annotated[str, typer.Option("--case", "-c", help="JSON case file with final_diagnosis.")],
    fmt: Annotated[GradeFormat, typer.Option("--format", "-f")] = GradeFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Grade a work-up against the case's ground truth: diagnosis, findings, omissions, plan."""
    from dxrx.grade import grade as grade_workup
    from dxrx.grade import load_case_record, load_workup
    from dxrx.grade.render import render_grade
    from dxrx.kb import load_kb

    try:
        kb = load_kb()
        result = grade_workup(load_workup(report), load_case_record(case), kb)
    except InputError as exc:
        _fail(str(exc))
    except KbError as exc:
        _fail(str(exc), 1)
    _emit(render_grade(result, fmt.value), output)


class Stage(StrEnum):
    acute = "acute"
    subacute = "subacute"
    chronic = "chronic"
    post_operative = "post-operative"


@app.command()
def plan(
    condition: Annotated[str, typer.Argument(help="Condition id, e.g. gluteal-tendinopathy.")],
    stage: Annotated[
        Stage | None,
        typer.Option(
            "--stage", "-s", help="Stage to start at; post-operative: after an operation."
        ),
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Print a condition's treatment pathway and staged FITT-VP protocol, without a case."""
    import difflib
    import json

    from dxrx import DISCLAIMER
    from dxrx.kb import load_kb
    from dxrx.pipeline import citations
    from dxrx.plan import plan_for_condition
    from dxrx.report.handout import render_handout
    from dxrx.report.markdown import render_plan_markdown

    try:
        kb = load_kb()
    except KbError as exc:
        _fail(str(exc), 1)
    cond = kb.conditions.get(condition)
    if cond is None:
        close = difflib.get_close_matches(condition, list(kb.conditions), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see the KB for condition ids"
        _fail(f"unknown condition {condition!r}{hint}")
    assert cond is not None
    result = plan_for_condition(kb, cond, stage=stage.value if stage else None)
    refs = citations(kb, [result])
    if fmt is ReportFormat.json:
        doc = {
            "plan": result.model_dump(by_alias=True),
            "references": refs,
            "disclaimer": DISCLAIMER,
            "kb_version": kb.version,
        }
        text = json.dumps(doc, indent=2) + "\n"
    elif fmt is ReportFormat.handout:
        text = render_handout(result, DISCLAIMER)
    else:
        text = render_plan_markdown(result, refs, DISCLAIMER, kb.version)
    _emit(text, output)


@kb_app.command("lint")
def kb_lint(
    directory: Annotated[
        Path | None, typer.Argument(help="A KB data folder to check instead of the packaged one.")
    ] = None,
) -> None:
    """Check the knowledge base: schema, cross-references, references. Exit 1 when broken."""
    from dxrx.kb import lint, load_dir, load_kb

    if directory is not None and not directory.is_dir():
        _fail(f"{directory} is not a folder")
    try:
        kb = load_dir(directory) if directory is not None else load_kb()
    except KbError as exc:
        _fail(str(exc), 1)
    problems = lint(kb)
    for line in problems:
        typer.echo(line)
    summary = (
        f"{len(kb.conditions)} conditions, {len(kb.muscles)} muscles, {len(kb.nerves)} nerves, "
        f"{len(kb.roots)} roots, {len(kb.exercises)} exercises, {len(kb.protocols)} protocols, "
        f"{len(kb.references)} references; kb {kb.version}"
    )
    if problems:
        typer.echo(f"{len(problems)} problems ({summary})", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {summary}")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (beyond localhost needs a token).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File holding the API token (else $DXRX_API_TOKEN)."),
    ] = None,
    rate_limit: Annotated[
        int | None,
        typer.Option("--rate-limit", min=0, help="Requests a minute per client (0: no limit)."),
    ] = None,
) -> None:
    """Run the web service: REST API (/v1), CDS Hooks (/cds-services), UI and /docs.

    Analyses are stored in $DXRX_DATABASE_URL, else a SQLite file in $DXRX_DATA_DIR."""
    import dataclasses
    import logging

    import uvicorn

    from dxrx.web.app import create_app
    from dxrx.web.settings import Settings, read_token_file

    try:
        settings = Settings(host=host, port=port)
        if token_file is not None:
            settings = dataclasses.replace(settings, token=read_token_file(token_file))
        if rate_limit is not None:
            settings = dataclasses.replace(settings, rate_limit_per_minute=rate_limit)
    except ValueError as exc:
        _fail(str(exc))
    problems = settings.problems()
    if problems:
        _fail("; ".join(problems))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        web_app = create_app(settings)
    except KbError as exc:
        _fail(str(exc), 1)
    except Exception as exc:  # the database cannot be opened or migrated
        _fail(f"cannot open the database: {type(exc).__name__}: {exc}", 1)
    # uvicorn's access log would print query strings (searches may hold case words): ours omits them
    uvicorn.run(web_app, host=host, port=port, access_log=False, server_header=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("dxrx: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: say so in one line, keep the trace opt-in
        if os.environ.get("DXRX_DEBUG"):
            raise
        typer.echo(
            f"dxrx: internal error: {type(exc).__name__}: {exc} (set DXRX_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(3)
