"""dxval.demo.cases: identifiers, UIDs and the spread of demographics, truth and lesions."""

from __future__ import annotations

import re
import uuid

import numpy as np

from dxval.demo import DEMO_SITES, Sex, derived_uid, sample_case
from dxval.demo.cases import case_identifier


def test_uids_are_version_8_uuids_under_2_25() -> None:
    uid = derived_uid("instance", 1, "site-a", 0)
    assert re.fullmatch(r"2\.25\.[1-9][0-9]*", uid)
    assert len(uid) <= 64
    value = uuid.UUID(int=int(uid.split(".")[2]))
    assert value.version == 8
    assert value.variant == uuid.RFC_4122
    assert derived_uid("instance", 1, "site-a", 0) == uid
    assert derived_uid("instance", 2, "site-a", 0) != uid
    assert derived_uid("series", 1, "site-a", 0) != uid


def test_case_ids_depend_on_seed_site_and_index_only() -> None:
    site = DEMO_SITES[0]
    assert re.fullmatch(r"DEMO-A-[0-9a-f]{10}", case_identifier(5, site, 3))
    assert case_identifier(5, site, 3) == case_identifier(5, site, 3)
    assert len({case_identifier(5, site, index) for index in range(500)}) == 500
    assert case_identifier(5, site, 3) != case_identifier(6, site, 3)


def test_a_case_does_not_depend_on_the_other_cases() -> None:
    site = DEMO_SITES[2]
    first, _ = sample_case(9, site, 41)
    for index in range(5):
        sample_case(9, site, index)
    again, _ = sample_case(9, site, 41)
    assert first == again


def test_demographics_and_truth_have_a_realistic_spread() -> None:
    cases = [sample_case(3, site, index)[0] for site in DEMO_SITES for index in range(400)]
    ages = np.array([case.age_years for case in cases])
    labels = np.array([case.label for case in cases])
    female = np.array([case.sex is Sex.FEMALE for case in cases])
    assert 18 <= ages.min() < 30
    assert 80 < ages.max() <= 92
    assert 50 <= np.median(ages) <= 66
    assert 0.45 <= female.mean() <= 0.58
    assert 0.25 <= labels.mean() <= 0.36
    # nodules are more frequent in older patients
    assert labels[ages >= 65].mean() > labels[ages < 45].mean()
    sizes = np.array([case.lesion_size_mm for case in cases if case.label])
    assert sizes.min() >= 6.0
    assert sizes.max() <= 32.0
    classes = {case.lesion_size_class for case in cases if case.label}
    assert classes == {"small", "medium", "large"}
    assert all(
        case.lesion is None and case.lesion_size_class == "none" for case in cases if not case.label
    )


def test_the_shifted_site_has_fainter_lesions() -> None:
    contrasts = {
        site.site_id: np.mean(
            [
                case.lesion.contrast
                for case in (sample_case(3, site, index)[0] for index in range(300))
                if case.lesion is not None
            ]
        )
        for site in DEMO_SITES
    }
    assert contrasts["site-c"] < 0.7 * min(contrasts["site-a"], contrasts["site-b"])
