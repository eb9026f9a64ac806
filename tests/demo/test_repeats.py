"""The demo repeat-acquisition set (`dxval demo generate --repeats N`) and its precision study."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dxval.cli import main
from dxval.demo import DEFAULT_SEED, DEMO_SITES
from dxval.demo.cases import case_identifier
from dxval.demo.repeats import REPEAT_COLUMNS, generate_repeats

ROOT = Path(__file__).parents[2]
PATIENTS = 3


@pytest.fixture(scope="module")
def repeats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repeats") / "demo-data-precision"
    generate_repeats(out, patients_per_site=PATIENTS, seed=DEFAULT_SEED)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.req("DXV-ROBUST2-004")
def test_each_patient_is_acquired_twice_with_new_uids_and_new_noise(repeats: Path) -> None:
    summary = json.loads((repeats / "demo.json").read_text())
    assert (summary["patients_per_site"], summary["acquisitions"]) == (PATIENTS, 2)
    for site in DEMO_SITES:
        rows = _rows(repeats / site.site_id / "manifest.csv")
        assert tuple(rows[0]) == REPEAT_COLUMNS
        assert len(rows) == 2 * PATIENTS
        # the repeat group is the main demo's case ID of the same patient (same phantom)
        expected = [case_identifier(DEFAULT_SEED, site, index) for index in range(PATIENTS)]
        assert [row["repeat_group"] for row in rows[::2]] == expected
        assert [row["repeat_group"] for row in rows[1::2]] == expected
        assert len({row["case_id"] for row in rows}) == len(rows)
        for first, second in zip(rows[::2], rows[1::2], strict=True):
            assert (first["acquisition"], second["acquisition"]) == ("1", "2")
            assert first["label"] == second["label"]
            a, b = (
                pydicom.dcmread(repeats / site.site_id / row["path"]) for row in (first, second)
            )
            assert a.PatientID == b.PatientID == first["repeat_group"]
            for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                assert a[keyword].value != b[keyword].value, keyword
            pixels_a = a.pixel_array.astype(np.float64)
            pixels_b = b.pixel_array.astype(np.float64)
            assert not np.array_equal(pixels_a, pixels_b)  # new noise, moved patient
            # the same phantom: the two acquisitions are strongly correlated
            assert np.corrcoef(pixels_a.ravel(), pixels_b.ravel())[0, 1] > 0.9


@pytest.mark.req("DXV-ROBUST2-004")
def test_the_repeat_set_is_byte_reproducible(repeats: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_repeats(again, patients_per_site=PATIENTS, seed=DEFAULT_SEED)
    files = sorted(path.relative_to(repeats) for path in repeats.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(again) for path in again.rglob("*") if path.is_file())
    for name in files:
        digest = hashlib.sha256((repeats / name).read_bytes()).hexdigest()
        assert digest == hashlib.sha256((again / name).read_bytes()).hexdigest(), name


@pytest.mark.req("DXV-ROBUST2-004")
def test_repeats_alone_and_at_least_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x")
    assert main(["demo", "generate", "--out", out, "--repeats", "3", "--cases-per-site", "4"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "dxval: error: --repeats: got --cases-per-site too, expected --repeats alone (it writes "
        "the repeat-acquisition set, N patients per site)"
    )
    assert main(["demo", "generate", "--out", out, "--repeats", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dxval: error: --repeats: got 1, expected an integer >= 2"
    )
    assert not Path(out).exists()


@pytest.mark.req("DXV-ROBUST2-005")
def test_the_precision_demo_runs_on_the_repeat_set(
    repeats: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """protocols/demo-precision.yaml on a reduced repeat set: every group complete, ICCs defined."""
    text = (ROOT / "protocols" / "demo-precision.yaml").read_text()
    text = text.replace("../models/demo/", f"{ROOT / 'models' / 'demo'}/")
    text = text.replace("../demo-data-precision/", f"{repeats}/")
    text = text.replace("replicates: 2000", "replicates: 200")
    # the test-set pins (4-space indent) go: the reduced set is locked below
    kept = [line for line in text.splitlines() if not line.startswith("    sha256: ")]
    assert len(text.splitlines()) - len(kept) == len(DEMO_SITES)
    path = tmp_path / "precision.yaml"
    path.write_text("\n".join(kept) + "\n")
    assert main(["lock", str(path)]) == 0
    out = tmp_path / "out"
    code = main(["validate", str(path), "--out", str(out), "--workers", "0", "--no-report"])
    assert code in (0, 1), capsys.readouterr().err
    (bundle,) = (out / "DEMO-NODULE-PRECISION").iterdir()
    precision = json.loads((bundle / "metrics.json").read_text())["precision"]
    groups = PATIENTS * len(DEMO_SITES)
    assert (precision["groups"], precision["complete_groups"], precision["repeats"]) == (
        groups,
        groups,
        2,
    )
    assert precision["repeat_group"] == "repeat_group"
    for name in ("icc2_1", "icc3_1", "within_group_sd", "all_agree_fraction"):
        assert precision["estimates"][name]["status"] == "ok", name
        assert precision["estimates"][name]["n"] == groups
    criteria = json.loads((bundle / "criteria.json").read_text())
    assert [r["id"] for r in criteria["requirements"]] == ["PREC-001", "PREC-002"]


@pytest.mark.req("DXV-ROBUST2-005")
def test_demo_precision_protocol_is_pinned_and_leaves_the_main_demo_alone() -> None:
    from dxval.pipeline.plan import plan_run

    plan = plan_run(ROOT / "protocols" / "demo-precision.yaml")
    demo = plan_run(ROOT / "protocols" / "demo.yaml")
    assert plan.precision_column == "repeat_group"
    assert plan.model is not None
    assert demo.model is not None
    assert plan.model.sha256 == demo.model.sha256
    assert plan.preprocessing == demo.preprocessing
    assert all(test_set.sha256 for test_set in plan.test_sets)
    assert not {t.sha256 for t in plan.test_sets} & {t.sha256 for t in demo.test_sets}
    makefile = (ROOT / "Makefile").read_text()
    assert "--repeats 20 --out demo-data-precision --if-needed" in makefile
    assert "demo-precision" not in makefile.split("\ndemo:")[1].split("\n\n")[0]
