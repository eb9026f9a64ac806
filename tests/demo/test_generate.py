"""dxval.demo.generate: folder layout, manifests, damaged files, reproducibility, bad options."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest

from dxval.demo import (
    DEMO_SITES,
    MANIFEST_COLUMNS,
    DemoResult,
    generate_demo,
    truncated_indices,
)
from dxval.errors import UsageError

ManifestReader = Callable[[Path], list[dict[str, str]]]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.req("DXV-DEMO-001")
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    digests = {}
    for seed in (7, 8):
        for attempt in ("first", "second"):
            folder = tmp_path / f"{seed}-{attempt}"
            generate_demo(folder, cases_per_site=3, seed=seed)
            digests[seed, attempt] = _digests(folder)
    assert digests[7, "first"] == digests[7, "second"]
    assert digests[8, "first"] == digests[8, "second"]
    assert len(digests[7, "first"]) == 1 + 3 * (1 + 3)
    shared = set(digests[7, "first"].items()) & set(digests[8, "first"].items())
    assert shared == set()


@pytest.mark.req("DXV-DEMO-001")
def test_a_smaller_demo_is_a_prefix_of_a_larger_one(
    tmp_path: Path, small_demo: DemoResult, read_manifest: ManifestReader
) -> None:
    smaller = generate_demo(tmp_path / "small", cases_per_site=4, seed=small_demo.seed)
    for site_small, site_large in zip(smaller.sites, small_demo.sites, strict=True):
        rows_small = read_manifest(site_small.manifest)
        rows_large = read_manifest(site_large.manifest)[:4]
        assert [row["case_id"] for row in rows_small] == [row["case_id"] for row in rows_large]
        for row in rows_small:
            if row["case_id"] in site_small.truncated_case_ids + site_large.truncated_case_ids:
                continue
            small_bytes = (site_small.manifest.parent / row["path"]).read_bytes()
            large_bytes = (site_large.manifest.parent / row["path"]).read_bytes()
            assert small_bytes == large_bytes


def test_layout_and_manifest_columns(small_demo: DemoResult, read_manifest: ManifestReader) -> None:
    summary = json.loads((small_demo.out_dir / "demo.json").read_text(encoding="utf-8"))
    assert summary["seed"] == small_demo.seed
    assert [site["site_id"] for site in summary["sites"]] == [s.site_id for s in DEMO_SITES]
    for site in small_demo.sites:
        rows = read_manifest(site.manifest)
        assert tuple(rows[0]) == MANIFEST_COLUMNS
        assert len(rows) == small_demo.cases_per_site
        assert len({row["case_id"] for row in rows}) == len(rows)
        for row in rows:
            assert (site.manifest.parent / row["path"]).is_file()
            assert row["label"] in ("0", "1")
            assert row["sex"] in ("F", "M")
            assert 18 <= int(row["age"]) <= 92
            if row["label"] == "1":
                assert 6.0 <= float(row["lesion_size_mm"]) <= 32.0
                assert row["lesion_size_class"] in ("small", "medium", "large")
            else:
                assert (row["lesion_size_mm"], row["lesion_size_class"]) == ("", "none")


def test_case_ids_are_pseudonymous_and_match_patient_id(
    small_demo: DemoResult, read_manifest: ManifestReader
) -> None:
    site = small_demo.sites[1]
    for row in read_manifest(site.manifest):
        assert row["case_id"].startswith("DEMO-B-")
        header = pydicom.dcmread(site.manifest.parent / row["path"], stop_before_pixels=True)
        assert header.PatientID == row["case_id"]
        assert str(header.PatientName) == f"DEMO^{row['case_id']}"
        assert header.PatientSex == row["sex"]
        assert header.PatientAge == f"{int(row['age']):03d}Y"


def test_about_one_percent_of_site_a_is_truncated(
    small_demo: DemoResult, read_manifest: ManifestReader
) -> None:
    site_a, site_b, site_c = small_demo.sites
    assert len(site_a.truncated_case_ids) == 1
    assert site_b.truncated_case_ids == site_c.truncated_case_ids == ()
    assert len(truncated_indices(DEMO_SITES[0], 200)) == 2
    assert len(truncated_indices(DEMO_SITES[0], 1000)) == 10
    assert truncated_indices(DEMO_SITES[1], 200) == frozenset()
    damaged = site_a.manifest.parent / "dicom" / f"{site_a.truncated_case_ids[0]}.dcm"
    intact = next(
        site_a.manifest.parent / row["path"]
        for row in read_manifest(site_a.manifest)
        if row["case_id"] not in site_a.truncated_case_ids
    )
    assert damaged.stat().st_size < 0.7 * intact.stat().st_size


def test_an_existing_demo_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    generate_demo(folder, cases_per_site=2, seed=1)
    generate_demo(folder, cases_per_site=1, seed=2)
    summary = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
    assert (summary["seed"], summary["cases_per_site"]) == (2, 1)
    assert len(list((folder / "site-a" / "dicom").iterdir())) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["demo"]


def test_a_folder_that_is_not_a_demo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"folder exists and is not a demo folder \(no demo.json\)"
    ):
        generate_demo(tmp_path, cases_per_site=1)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_as_output_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file, expected a folder"):
        generate_demo(target, cases_per_site=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cases_per_site": 0}, r"--cases-per-site: got 0, expected an integer >= 1"),
        ({"seed": -1}, r"--seed: got -1, expected an integer >= 0"),
    ],
)
def test_bad_options_are_usage_errors(
    tmp_path: Path, options: dict[str, int], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        generate_demo(tmp_path / "demo", **options)
    assert not (tmp_path / "demo").exists()
