"""``dxval demo generate``: output, progress on stderr, exit codes of user mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.cli import main


def test_generate_writes_the_demo_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-data"
    code = main(["demo", "generate", "--out", str(out), "--cases-per-site", "2", "--seed", "5"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads((out / "demo.json").read_text(encoding="utf-8"))["seed"] == 5
    assert "site-a: 2 cases" in captured.out
    assert f"{out / 'site-c' / 'manifest.csv'}" in captured.out
    assert f"wrote {out} (seed 5)" in captured.out


def test_a_bad_count_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "generate", "--out", str(tmp_path / "x"), "--cases-per-site", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "dxval: error: --cases-per-site: got 0, expected an integer >= 1"


def test_a_non_integer_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "generate", "--seed", "abc"]) == 2
    assert "invalid int value: 'abc'" in capsys.readouterr().err


def test_demo_without_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 2
    assert "demo: missing subcommand; expected one of: generate" in capsys.readouterr().err


def _pinned_protocol(folder: Path, data: Path) -> Path:
    """A predictions protocol over the three demo sites, pinned by dxval's lock code."""
    from dxval.pipeline.lock import read_sources
    from dxval.pipeline.plan import plan_run

    sites = "".join(
        f"  - {{id: site-{name}, site: Site {name.upper()}, "
        f"manifest: {data / f'site-{name}' / 'manifest.csv'}, data_root: {data}}}\n"
        for name in "abc"
    )
    text = (
        "dxval: 1\nid: DEMO-PIN-TEST\ntitle: Pins\nversion: '1'\n"
        "device: {name: Test, version: 0.1.0, intended_use: testing}\n"
        "predictions: {path: predictions.csv, score: score, operating_point: 0.5}\n"
        f"test_sets:\n{sites}"
        "truth: {column: label, positive: 1, negative: 0, reference_standard: synthetic}\n"
        "requirements:\n  - id: R-1\n    text: AUC.\n    criteria:\n"
        "      - {metric: auc, population: all, op: '>=', value: 0.5}\n"
    )
    path = folder / "protocol.yaml"
    path.write_text(text, encoding="utf-8")
    digests = [source.lock.digest for source in read_sources(plan_run(path))]  # type: ignore[union-attr]
    for name, digest in zip("abc", digests, strict=True):
        text = text.replace(f"data_root: {data}}}\n", f"data_root: {data}, sha256: {digest}}}\n", 1)
        assert f"site-{name}" in text
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.req("DXV-SPEED-004")
def test_if_needed_skips_matching_data_and_regenerates_changed_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-data"
    small = ["--out", str(out), "--cases-per-site", "2", "--seed", "5"]
    assert main(["demo", "generate", *small]) == 0
    protocol = _pinned_protocol(tmp_path, out)
    capsys.readouterr()
    needed = ["demo", "generate", *small, "--if-needed", "--protocol", str(protocol)]

    assert main(needed) == 0
    captured = capsys.readouterr()
    assert "not regenerated" in captured.out
    assert "wrote" not in captured.out

    first = sorted((out / "site-b" / "dicom").glob("*.dcm"))[0]
    first.write_bytes(first.read_bytes() + b"\0")  # one changed byte: the pin no longer matches
    assert main(needed) == 0
    captured = capsys.readouterr()
    assert "regenerating" in captured.err
    assert f"wrote {out} (seed 5)" in captured.out
    assert main(needed) == 0
    assert "not regenerated" in capsys.readouterr().out  # the same data again

    (out / "site-c" / "manifest.csv").unlink()
    assert main(needed) == 0
    assert "manifest.csv is missing" in capsys.readouterr().err


def test_if_needed_refuses_a_protocol_about_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo-data"
    assert main(["demo", "generate", "--out", str(out), "--cases-per-site", "2"]) == 0
    protocol = _pinned_protocol(tmp_path, out)
    capsys.readouterr()
    other = tmp_path / "elsewhere"
    other.mkdir()
    code = main(
        ["demo", "generate", "--out", str(other), "--if-needed", "--protocol", str(protocol)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "is outside --out" in err
