"""``validate`` with ``precision: {repeat_group: COLUMN}``: repeated acquisitions (issue 19).

A predictions protocol whose manifest marks repeated acquisitions of the same
patient. The numbers in metrics.json must equal dxval.stats.agreement on the
ratings matrix built here independently (the ICCs themselves equal R's
psych::ICC: tests/stats/test_agreement_psych.py); groups of another size are
counted as excluded, never dropped silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dxval.cli import main
from dxval.stats.agreement import all_agree_fraction, bland_altman, icc, within_subject_sd

GROUPS = 30
PROTOCOL = """\
dxval: 1
id: PREC-E2E
title: Precision end to end
version: "1.0"
device: {{name: Test, version: 0.0.1, intended_use: Test only}}
predictions: {{path: predictions.csv, score: score, operating_point: 0.5}}
test_sets:
  - {{id: site-a, site: Site A, manifest: manifest.csv}}
truth: {{column: label, positive: "1", negative: "0", reference_standard: test labels}}
statistics: {{bootstrap: {{replicates: 200, seed: 5}}}}
precision: {{repeat_group: {column}}}
requirements:
  - id: PREC-001
    text: Repeatable scores.
    criteria:
      - {{metric: icc3_1, bound: lower, op: ">=", value: 0.5}}
      - {{metric: within_group_sd, op: "<=", value: 0.2}}
      - {{metric: all_agree_fraction, op: ">=", value: 0.5}}
      - {{metric: fleiss_kappa, op: ">=", value: 0.0}}
"""


def _write(folder: Path, *, column: str = "repeat_group") -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(19)
    truth = np.arange(GROUPS) % 2
    level = np.where(truth == 1, 0.7, 0.3) + rng.normal(0.0, 0.15, GROUPS)
    matrix = np.clip(level[:, None] + rng.normal(0.0, 0.05, (GROUPS, 2)), 0.0, 1.0)
    manifest, predictions = ["case_id,label,repeat_group"], ["case_id,score"]
    for group in range(GROUPS):
        for repeat in range(2):
            case = f"g{group}-r{repeat}"
            manifest.append(f"{case},{truth[group]},G{group:02d}")
            predictions.append(f"{case},{float(matrix[group, repeat])!r}")
    # a group of 3 (excluded: the common size is 2) and 4 cases that are not repeated
    for index in range(3):
        manifest.append(f"t{index},1,TRIPLE")
        predictions.append(f"t{index},0.9")
    for index in range(4):
        manifest.append(f"s{index},{index % 2},")
        predictions.append(f"s{index},0.{index + 2}")
    (folder / "manifest.csv").write_text("\n".join(manifest) + "\n")
    (folder / "predictions.csv").write_text("\n".join(predictions) + "\n")
    protocol = folder / "protocol.yaml"
    protocol.write_text(PROTOCOL.format(column=column))
    return protocol, matrix


@pytest.mark.req("DXV-ROBUST-007", "DXV-ROBUST-006")
def test_precision_over_repeat_groups_equals_the_agreement_statistics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol, matrix = _write(tmp_path)
    assert main(["lock", str(protocol)]) == 0
    out = tmp_path / "out"
    code = main(["validate", str(protocol), "--out", str(out), "--no-report"])
    assert code == 0, capsys.readouterr()
    (bundle,) = (out / "PREC-E2E").iterdir()
    precision = json.loads((bundle / "metrics.json").read_text())["precision"]
    assert precision["repeat_group"] == "repeat_group"
    assert (precision["groups"], precision["repeats"]) == (GROUPS + 1, 2)
    assert (precision["complete_groups"], precision["excluded_groups"]) == (GROUPS, 1)
    estimates = precision["estimates"]
    expected = icc(matrix)
    for key in ("icc1_1", "icc2_1", "icc3_1"):
        got = estimates[key]
        want = getattr(expected, key)
        assert (got["estimate"], got["low"], got["high"]) == pytest.approx(
            (want.estimate, want.low, want.high), rel=1e-12
        )
    assert estimates["within_group_sd"]["estimate"] == pytest.approx(
        within_subject_sd(matrix).estimate, rel=1e-12
    )
    agree = all_agree_fraction(matrix >= 0.5)
    assert estimates["all_agree_fraction"]["estimate"] == agree.estimate
    assert precision["bland_altman"]["mean_difference"]["estimate"] == pytest.approx(
        bland_altman(matrix).mean_difference.estimate, rel=1e-12
    )
    criteria = json.loads((bundle / "criteria.json").read_text())["requirements"][0]["criteria"]
    assert [criterion["verdict"] for criterion in criteria] == ["pass"] * 4
    assert criteria[0]["populations"][0]["label"] == "repeat groups"
    _check_report_sections(bundle)


def _check_report_sections(bundle: Path) -> None:
    from dxval.evidence.format import read_bundle
    from dxval.report.render import SCREEN, render_html
    from dxval.report.summary import build_summary_view, render_summary_markdown
    from dxval.report.views import build_report_view

    data = read_bundle(bundle)
    html = render_html(build_report_view(data), SCREEN)
    assert "4.5 Precision over repeated acquisitions" in html  # numbered in order (DXV-RENDER-008)
    assert "30 groups of 2 scored repeats" in html
    assert "Upper limit of agreement" in html
    markdown = render_summary_markdown(build_summary_view(data))
    assert "### Precision" in markdown
    assert "ICC(3,1), two-way mixed, consistency" in markdown


@pytest.mark.req("DXV-ROBUST-007")
def test_missing_repeat_group_column_is_exit_2_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol, _ = _write(tmp_path, column="acquisition_group")
    assert main(["lock", str(protocol)]) == 0
    out = tmp_path / "out"
    assert main(["validate", str(protocol), "--out", str(out), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "no column 'acquisition_group'" in err
    assert "precision.repeat_group" in err
    assert not (out / "PREC-E2E").exists()


@pytest.mark.req("DXV-ROBUST-007")
def test_precision_metric_without_a_precision_section_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol, _ = _write(tmp_path)
    protocol.write_text(
        protocol.read_text().replace("precision: {repeat_group: repeat_group}\n", "")
    )
    assert main(["validate", str(protocol), "--out", str(tmp_path / "out")]) == 2
    assert "expected a precision section" in capsys.readouterr().err
