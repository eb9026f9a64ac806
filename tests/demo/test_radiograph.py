"""dxval.demo.radiograph and phantom: where the lesion is, stored ranges, automatic windows."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from dxval.demo import DEMO_SITES, sample_case
from dxval.demo.radiograph import lesion_footprint, render_case


def _first_positive(seed: int, site_index: int) -> int:
    site = DEMO_SITES[site_index]
    return next(index for index in range(100) if sample_case(seed, site, index)[0].label)


def test_a_lesion_changes_the_image_only_around_its_footprint() -> None:
    for site_index, site in enumerate(DEMO_SITES):
        index = _first_positive(11, site_index)
        case, generator = sample_case(11, site, index)
        _, same_stream = sample_case(11, site, index)
        with_lesion = render_case(case, site, generator).pixels.astype(np.int64)
        without = render_case(dataclasses.replace(case, lesion=None), site, same_stream)
        footprint = lesion_footprint(case, site)
        assert footprint.any()
        reach = int(np.ceil(4 * site.blur_mm / min(site.pixel_spacing_mm))) + 4
        near = ndimage.binary_dilation(footprint, iterations=reach)
        difference = with_lesion - without.pixels.astype(np.int64)
        assert not difference[~near].any()
        # a nodule attenuates: brighter in MONOCHROME2, darker (lower stored value) in MONOCHROME1
        sign = -1 if site.photometric.value == "MONOCHROME1" else 1
        assert sign * difference[footprint].mean() > 0


def test_negative_cases_have_no_footprint() -> None:
    site = DEMO_SITES[0]
    case = next(c for c in (sample_case(11, site, i)[0] for i in range(50)) if not c.label)
    assert not lesion_footprint(case, site).any()


def test_stored_values_fit_the_bits_and_the_window_covers_the_body() -> None:
    for site in DEMO_SITES:
        case, generator = sample_case(12, site, 0)
        image = render_case(case, site, generator)
        assert image.pixels.shape == (site.rows, site.columns)
        assert image.pixels.dtype == np.uint16
        assert int(image.pixels.max()) <= 2**site.bits_stored - 1
        modality = image.pixels * site.rescale_slope + site.rescale_intercept
        low = image.window_center - image.window_width / 2
        high = image.window_center + image.window_width / 2
        assert site.modality_low - 1000 <= low < high <= site.modality_high + 1000
        inside = np.mean((modality >= low) & (modality <= high))
        assert 0.5 < inside < 1.0
