"""The command line as a user meets it: good cases, bad inputs, output files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEV, SEED, needs_pdf

DXRX = [sys.executable, "-m", "dxrx"]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DXRX_DEBUG"}
    return subprocess.run([*DXRX, *args], input=stdin, capture_output=True, env=env, timeout=120)


def test_analyze_markdown_default() -> None:
    res = run("analyze", str(SEED))
    assert res.returncode == 0, res.stderr.decode()
    out = res.stdout.decode()
    assert out.startswith("# dxrx work-up")
    assert "Superior gluteal nerve entrapment" in out


def test_analyze_json_to_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    res = run("analyze", str(SEED), "--format", "json", "-o", str(target))
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(target.read_text())
    assert doc["differential"][0]["id"] == "superior-gluteal-nerve-entrapment"
    assert not list(tmp_path.glob("*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not a private temp-file mode


def test_analyze_text_file_and_stdin(tmp_path: Path) -> None:
    record = json.loads(SEED.read_text())
    text = record["history"] + "\n\n" + record["imaging"]
    case = tmp_path / "case.txt"
    case.write_text(text)
    from_file = run("analyze", str(case), "--format", "json")
    from_stdin = run("analyze", "-", "--format", "json", stdin=text.encode())
    assert from_file.returncode == 0 and from_stdin.returncode == 0
    a, b = json.loads(from_file.stdout), json.loads(from_stdin.stdout)
    assert (
        a["differential"][0]["id"]
        == b["differential"][0]["id"]
        == ("superior-gluteal-nerve-entrapment")
    )
    json_stdin = run("analyze", "-", "--format", "json", stdin=SEED.read_bytes())
    assert json.loads(json_stdin.stdout)["case"]["age"] == 47


def _bad_inputs(tmp: Path) -> list[tuple[str, str]]:
    """(path, words the one-line error must contain)."""
    (tmp / "empty.txt").write_text("")
    (tmp / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (tmp / "bad.json").write_text('{"history": "pain in the hip",')
    (tmp / "nohistory.json").write_text('{"age": 40, "imaging": "MRI normal"}')
    (tmp / "list.json").write_text('["history"]')
    big = tmp / "big.txt"
    big.write_text("Buttock pain for three months. " * 350_000)
    (tmp / "french.txt").write_text(
        "Femme de 47 ans présentant une douleur de la fesse droite depuis trois mois, "
        "aggravée par l'effort et soulagée par le repos. Faiblesse de l'abduction de la hanche."
    )
    (tmp / "chinese.txt").write_text("患者女性，47岁，右侧臀部疼痛三个月，髋关节外展无力。")
    locked = tmp / "locked.txt"
    locked.write_text("Buttock pain.")
    locked.chmod(0)
    return [
        (str(tmp / "empty.txt"), "empty"),
        (str(tmp / "binary.txt"), "binary"),
        (str(tmp / "missing.txt"), "no such file"),
        (str(tmp / "bad.json"), "not valid JSON"),
        (str(tmp / "nohistory.json"), "history"),
        (str(tmp / "list.json"), "object"),
        (str(big), "MB"),
        (str(tmp / "french.txt"), "English"),
        (str(tmp / "chinese.txt"), "English"),
        (str(tmp), "directory"),
        (str(locked), "permission denied" if os.geteuid() != 0 else ""),
    ]


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    for path, words in _bad_inputs(tmp_path):
        if path.endswith("locked.txt") and os.geteuid() == 0:
            continue  # root reads any file; permission errors cannot be provoked
        res = run("analyze", path)
        err = res.stderr.decode().strip()
        assert res.returncode == 2, (path, err)
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        assert err.startswith("dxrx: error:"), err
        assert words in err, (path, err)
        assert res.stdout == b""


def test_output_into_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    res = run("analyze", str(SEED), "-o", str(tmp_path / "nope" / "out.md"))
    assert res.returncode == 2
    assert "does not exist" in res.stderr.decode()


def test_kb_lint_passes() -> None:
    res = run("kb", "lint")
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    assert res.stdout.decode().startswith("ok:")


def test_bench_json(tmp_path: Path) -> None:
    subset = tmp_path / "subset.jsonl"
    lines = DEV.read_text().splitlines()[:5]
    subset.write_text("\n".join(lines) + "\n")
    res = run("bench", str(subset), "--format", "json")
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    assert doc["n"] == 5
    assert 0.0 <= doc["top1"] <= doc["top3"] <= 1.0
    assert len(doc["cases"]) == 5 and all("rank" in c for c in doc["cases"])
    assert {"by_region", "by_modality", "calibration", "plan_quality", "misses"} <= set(doc)


def test_grade_command(tmp_path: Path) -> None:
    generated = SEED.parent / "seed-generated-report.md"
    res = run("grade", str(generated), "--case", str(SEED), "--format", "json")
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    assert doc["diagnosis"]["correct"] is True
    assert len(doc["invented_findings"]) == 1
    res = run("grade", str(generated), "--case", str(SEED))
    assert res.stdout.decode().startswith("# dxrx grade")
    nodx = tmp_path / "case.json"
    nodx.write_text(json.dumps({"history": "Buttock pain for three months."}))
    res = run("grade", str(generated), "--case", str(nodx))
    assert res.returncode == 2 and "final_diagnosis" in res.stderr.decode()
    notreport = tmp_path / "r.json"
    notreport.write_text('{"x": 1}')
    res = run("grade", str(notreport), "--case", str(SEED))
    assert res.returncode == 2 and "dxrx report" in res.stderr.decode()


@pytest.mark.parametrize("content", ["", '{"id": 1}\n', "not json\n"])
def test_bench_bad_case_file(tmp_path: Path, content: str) -> None:
    f = tmp_path / "cases.jsonl"
    f.write_text(content)
    res = run("bench", str(f))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr.decode()


def test_plan_command_json_and_unknown_condition() -> None:
    res = run("plan", "gluteal-tendinopathy", "--stage", "subacute", "--format", "json")
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    stages = doc["plan"]["rehabilitation"]["stages"]
    assert stages[0]["current"] is True
    assert all(
        set(s["fitt_vp"]) == {"frequency", "intensity", "time", "type", "volume", "progression"}
        for s in stages
    )
    bad = run("plan", "glute-tendinopathy")
    assert bad.returncode == 2
    assert "did you mean gluteal-tendinopathy" in bad.stderr.decode()


def test_kb_lint_reports_a_broken_copy(tmp_path: Path) -> None:
    import shutil
    from importlib import resources

    data = tmp_path / "data"
    shutil.copytree(str(resources.files("dxrx.kb").joinpath("data")), data)
    cond = data / "conditions" / "meralgia-paraesthetica.yaml"
    cond.write_text(
        cond.read_text().replace(
            "rehab_protocol: sensory-neuropathy", "rehab_protocol: no-such-protocol"
        )
    )
    res = run("kb", "lint", str(data))
    assert res.returncode == 1
    assert "unknown rehabilitation protocol 'no-such-protocol'" in res.stdout.decode()


@needs_pdf
def test_analyze_html_pdf_and_fhir_files(tmp_path: Path) -> None:
    html, pdf, fhir = tmp_path / "w.html", tmp_path / "w.pdf", tmp_path / "w.fhir.json"
    for fmt, out in (("html", html), ("pdf", pdf), ("fhir", fhir)):
        res = run("analyze", str(SEED), "-f", fmt, "-o", str(out))
        assert res.returncode == 0, res.stderr.decode()
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert pdf.read_bytes().startswith(b"%PDF")
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"DiagnosticReport", "Condition", "Observation", "CarePlan"} <= kinds


@needs_pdf
def test_pdf_is_not_dumped_on_a_terminal_but_goes_through_a_pipe() -> None:
    res = run("analyze", str(SEED), "-f", "pdf")  # stdout is a pipe here, not a terminal
    assert res.returncode == 0 and res.stdout.startswith(b"%PDF")


def test_fhir_bundle_input_gives_the_seed_work_up() -> None:
    bundle = Path(__file__).parent / "data" / "seed-bundle.json"
    a = json.loads(run("analyze", str(bundle), "-f", "json").stdout)
    b = json.loads(run("analyze", str(SEED), "-f", "json").stdout)
    assert [d["id"] for d in a["differential"]] == [d["id"] for d in b["differential"]]
    assert a["leading"] == b["leading"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ('{"resourceType": "Patient", "gender": "female"}', "FHIR Patient"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "no resources"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {}}]}', "Bundle"),
    ],
)
def test_invalid_fhir_gets_one_clear_line(tmp_path: Path, doc: str, message: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(doc, encoding="utf-8")
    res = run("analyze", str(path))
    err = res.stderr.decode()
    assert res.returncode == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_output_to_a_device_writes_through_it_and_keeps_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    res = run("analyze", str(SEED), "-f", "json", "-o", str(fifo))
    reader.join(timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    assert json.loads(got[0])["leading"]["id"] == "superior-gluteal-nerve-entrapment"
    assert fifo.is_fifo()  # not replaced by a regular file
