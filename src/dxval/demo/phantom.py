"""A synthetic postero-anterior chest radiograph, rendered as an attenuation map.

Design (all sizes in millimetres at the detector, so every site renders the
same anatomy at its own pixel spacing):

* **Body.** A superelliptic trunk of half-width ≈ 165 mm × ``scale`` whose
  attenuation follows an elliptical cross-section (thicker in the middle),
  with shoulders and the neck at the top; air outside the body is zero.
* **Lung fields.** Two rounded fields with apices near the clavicles and
  domed hemidiaphragms at the base (the left one, on the image right, a little
  lower); air in the lungs removes up to 0.55 attenuation units.
* **Mediastinum and heart.** A central soft-tissue band with the heart as an
  ellipse displaced to the patient's left (image right), and the air column of
  the trachea down to the carina.
* **Bones.** The spine with vertebral segmentation, ten posterior ribs per side
  (curved bands with brighter cortex), fainter anterior ribs, and clavicles.
* **Lung texture.** Vessel-like filaments: the ridges of band-pass filtered
  noise, denser towards the hila, plus a few end-on vessels (small round
  blobs) that mimic small nodules.
* **Breast shadows** for female patients over the lower lateral lung fields.
* **Nodule** (positive cases only): a sphere of the given diameter with a
  slightly lobulated outline, whose projected thickness profile
  ``contrast × sqrt(1 − (r/R)²)`` is added inside a lung field.

The detector model in :func:`expose` blurs the map with the site's point
spread, adds quantum noise whose variance grows with attenuation (fewer
photons behind dense tissue) and an electronic noise floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: attenuation removed by fully aerated lung, in the phantom's units
LUNG_AIR = 0.55

#: posterior (and anterior) ribs drawn on each side
RIBS_PER_SIDE = 10


@dataclass(frozen=True, slots=True)
class Anatomy:
    """Patient-specific geometry of the phantom (millimetres, radians, unitless factors)."""

    scale: float
    shift_x_mm: float
    shift_y_mm: float
    rotation_rad: float
    lung_height_factor: float
    heart_width_factor: float
    rib_spacing_mm: float
    rib_phase_mm: float
    vessel_density: float
    breast_size: float
    end_on_vessels: int


@dataclass(frozen=True, slots=True)
class Lesion:
    """A nodule: centre in the lung's normalised frame, diameter (mm), contrast, lobulation."""

    side: int
    lateral_fraction: float
    vertical_fraction: float
    diameter_mm: float
    contrast: float
    lobulation: float
    lobulation_phase: float


@dataclass(frozen=True, slots=True)
class Grid:
    """Pixel-centre coordinates (mm) in the patient frame: x to image right, y downwards."""

    x: np.ndarray
    y: np.ndarray
    spacing_mm: tuple[float, float]


def make_grid(rows: int, columns: int, spacing_mm: tuple[float, float], anatomy: Anatomy) -> Grid:
    """Return the patient-frame coordinates of every pixel centre.

    Parameters: ``rows``, ``columns`` (stored matrix), ``spacing_mm`` (row,
    column) pixel spacing and the patient's ``anatomy`` (position, rotation
    and size). The arrays ``x`` and ``y`` have shape (rows, columns) and are
    divided by ``anatomy.scale`` so the anatomy below is drawn at unit size.
    """
    row_mm = (np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0) * spacing_mm[0]
    column_mm = (np.arange(columns, dtype=np.float64) - (columns - 1) / 2.0) * spacing_mm[1]
    y_image, x_image = np.meshgrid(row_mm, column_mm, indexing="ij")
    x_image = x_image - anatomy.shift_x_mm
    y_image = y_image - anatomy.shift_y_mm
    cosine, sine = np.cos(anatomy.rotation_rad), np.sin(anatomy.rotation_rad)
    x = (cosine * x_image + sine * y_image) / anatomy.scale
    y = (-sine * x_image + cosine * y_image) / anatomy.scale
    return Grid(x=x, y=y, spacing_mm=spacing_mm)


def _smoothstep(values: np.ndarray, edge_mm: float) -> np.ndarray:
    """Map a signed distance-like field (positive inside) to a soft 0..1 mask."""
    return np.clip(0.5 + values / (2.0 * edge_mm), 0.0, 1.0)


def _body(grid: Grid) -> np.ndarray:
    half_width = 165.0 + 12.0 * np.clip((grid.y + 120.0) / 200.0, 0.0, 1.0)
    shoulder = np.clip((grid.y + 165.0) / 45.0, 0.0, 1.0)
    neck = (np.abs(grid.x) < 55.0) & (grid.y < -150.0)
    width = np.where(neck, 58.0, half_width * np.sqrt(shoulder))
    relative = np.abs(grid.x) / np.maximum(width, 1.0)
    inside = _smoothstep((1.0 - relative) * width, 6.0)
    thickness = np.sqrt(np.clip(1.0 - relative**2, 0.0, 1.0))
    return inside * (0.35 + 0.65 * thickness)


def _lung_masks(grid: Grid, anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """Return (right lung, left lung) soft masks; the patient's right lung is on the image left."""
    masks = []
    for side, centre_x, base_y in ((-1, -78.0, 95.0), (1, 80.0, 105.0)):
        base = base_y * anatomy.lung_height_factor
        apex = -150.0
        half_width = 62.0 if side < 0 else 58.0
        lateral = (grid.x - centre_x) / half_width
        dome = base - 26.0 * np.clip(1.0 - lateral**2, 0.0, 1.0)
        height = np.clip((grid.y - apex) / 70.0, 0.0, 1.0)
        width_at_y = half_width * np.sqrt(height) * (1.0 + 0.18 * np.clip(grid.y / 100.0, -1, 1))
        horizontal = width_at_y - np.abs(grid.x - centre_x)
        vertical = np.minimum(grid.y - apex, dome - grid.y)
        masks.append(_smoothstep(np.minimum(horizontal, vertical), 8.0))
    return masks[0], masks[1]


def _mediastinum(grid: Grid, anatomy: Anatomy) -> np.ndarray:
    band = _smoothstep(36.0 + 0.08 * np.clip(grid.y, 0.0, None) - np.abs(grid.x - 4.0), 6.0)
    heart_x = (grid.x - 18.0 - 0.12 * (grid.y - 70.0)) / (80.0 * anatomy.heart_width_factor)
    heart_y = (grid.y - 80.0) / 70.0
    heart = _smoothstep((1.0 - np.sqrt(heart_x**2 + heart_y**2)) * 60.0, 8.0)
    return np.maximum(band, heart)


def _trachea(grid: Grid) -> np.ndarray:
    column = _smoothstep(9.0 - np.abs(grid.x - 2.0), 3.0)
    return column * _smoothstep(-40.0 - grid.y, 6.0) * 0.18


def _spine(grid: Grid) -> np.ndarray:
    column = _smoothstep(22.0 - np.abs(grid.x), 5.0)
    segments = 0.75 + 0.25 * np.cos(2.0 * np.pi * grid.y / 24.0) ** 2
    return 0.12 * column * segments


def _bone_band(distance: np.ndarray, half_thickness: float) -> np.ndarray:
    """Projected tube with a brighter cortex, as a function of distance from its axis."""
    relative = np.minimum(distance / half_thickness, 1.0)
    marrow = np.sqrt(1.0 - relative**2)
    cortex = np.exp(-(((relative - 0.85) / 0.15) ** 2))
    return np.where(relative < 1.0, 0.55 * marrow + 0.45 * cortex, 0.0)


def _nearest_rib_distance(offset: np.ndarray, anatomy: Anatomy) -> np.ndarray:
    """Distance to the nearest of the ten ribs of one family, given the offset from the first."""
    index = np.clip(np.rint(offset / anatomy.rib_spacing_mm), 0, RIBS_PER_SIDE - 1)
    return np.abs(offset - index * anatomy.rib_spacing_mm)


def _ribs(grid: Grid, anatomy: Anatomy) -> np.ndarray:
    lateral = np.abs(grid.x)
    chest_wall = _smoothstep(150.0 - lateral, 10.0) * (lateral > 16.0)
    first_rib = -150.0 + anatomy.rib_phase_mm
    medial = lateral - 16.0
    posterior = grid.y - (first_rib - 0.55 * medial + 0.0056 * medial**2)
    image = 0.10 * _bone_band(_nearest_rib_distance(posterior, anatomy), 4.8)
    from_wall = 150.0 - lateral
    anterior = grid.y - (first_rib + 10.0 + 0.75 * from_wall - 0.0015 * from_wall**2)
    anterior_band = _bone_band(_nearest_rib_distance(anterior, anatomy), 5.5)
    image += 0.04 * anterior_band * (lateral > 50.0)
    image *= chest_wall
    clavicle = -160.0 - 0.30 * (lateral - 20.0) + 0.0014 * (lateral - 20.0) ** 2
    image += 0.14 * _bone_band(np.abs(grid.y - clavicle), 7.0) * (lateral > 14.0) * (lateral < 150)
    return image


def _vessels(grid: Grid, anatomy: Anatomy, generator: np.random.Generator) -> np.ndarray:
    spacing = float(np.mean(grid.spacing_mm))
    noise = generator.standard_normal(grid.x.shape)
    fine = ndimage.gaussian_filter(noise, 2.5 / spacing)
    coarse = ndimage.gaussian_filter(noise, 6.0 / spacing)
    band = fine - coarse
    band /= float(np.std(band)) + 1e-12
    ridges = np.exp(-((band / 0.35) ** 2))
    hilum_distance = np.minimum(
        np.hypot(grid.x + 45.0, grid.y + 10.0), np.hypot(grid.x - 45.0, grid.y + 5.0)
    )
    density = anatomy.vessel_density * np.exp(-hilum_distance / 90.0)
    return 0.10 * ridges * density


def _end_on_vessels(
    grid: Grid, anatomy: Anatomy, lungs: np.ndarray, generator: np.random.Generator
) -> np.ndarray:
    image = np.zeros_like(grid.x)
    for _ in range(anatomy.end_on_vessels):
        side = -1.0 if generator.random() < 0.5 else 1.0
        centre_x = side * (35.0 + 45.0 * generator.random())
        centre_y = -40.0 + 90.0 * generator.random()
        radius = 2.0 + 2.5 * generator.random()
        distance = np.hypot(grid.x - centre_x, grid.y - centre_y)
        image += 0.06 * np.sqrt(np.clip(1.0 - (distance / radius) ** 2, 0.0, 1.0))
    return image * lungs


def _breasts(grid: Grid, anatomy: Anatomy) -> np.ndarray:
    if anatomy.breast_size <= 0.0:
        return np.zeros_like(grid.x)
    image = np.zeros_like(grid.x)
    for side in (-1.0, 1.0):
        centre_x = side * 95.0
        radius = 60.0 + 25.0 * anatomy.breast_size
        distance = np.hypot((grid.x - centre_x) / 1.2, grid.y - 110.0)
        image += _smoothstep(radius - distance, 14.0) * (grid.y > 40.0)
    return 0.10 * anatomy.breast_size * image


def lesion_centre_mm(lesion: Lesion, anatomy: Anatomy) -> tuple[float, float]:
    """Return the lesion centre (x, y) in the unit-size patient frame (mm).

    The lesion's ``lateral_fraction`` (0 medial … 1 lateral) and
    ``vertical_fraction`` (0 apex … 1 base) are mapped into the lung field of
    its side, staying clear of the mediastinum and the diaphragm.
    """
    centre_x = lesion.side * (40.0 + 85.0 * lesion.lateral_fraction)
    base = 75.0 * anatomy.lung_height_factor
    centre_y = -125.0 + (base + 125.0) * lesion.vertical_fraction
    return centre_x, centre_y


def nodule_thickness(grid: Grid, anatomy: Anatomy, lesion: Lesion) -> np.ndarray:
    """Projected attenuation of the nodule alone (float64, shape of ``grid.x``).

    Zero outside the lobulated outline; ``contrast × sqrt(1 − (r/R)²)`` inside.
    Also gives the lesion's footprint (``> 0``) for training a localiser.
    """
    centre_x, centre_y = lesion_centre_mm(lesion, anatomy)
    offset_x, offset_y = grid.x - centre_x, grid.y - centre_y
    angle = np.arctan2(offset_y, offset_x)
    lobes = 1.0 + lesion.lobulation * np.cos(3.0 * angle + lesion.lobulation_phase)
    radius = lesion.diameter_mm / (2.0 * anatomy.scale) * lobes
    relative = np.hypot(offset_x, offset_y) / radius
    return lesion.contrast * np.sqrt(np.clip(1.0 - relative**2, 0.0, 1.0))


def attenuation(
    grid: Grid, anatomy: Anatomy, lesion: Lesion | None, generator: np.random.Generator
) -> np.ndarray:
    """Render the attenuation map (float64, shape of ``grid.x``) of one radiograph.

    Parameters: the pixel ``grid``, the patient's ``anatomy``, an optional
    ``lesion`` (nodule) and the case's random ``generator`` (used for lung
    texture and end-on vessels, drawn in a fixed order). Higher values mean
    more attenuation (brighter in a MONOCHROME2 display).
    """
    body = _body(grid)
    right_lung, left_lung = _lung_masks(grid, anatomy)
    mediastinum = _mediastinum(grid, anatomy)
    lungs = np.clip(right_lung + left_lung, 0.0, 1.0) * (1.0 - mediastinum) * (body > 0.3)
    image = body + 0.15 * mediastinum * body - LUNG_AIR * lungs - _trachea(grid)
    image += (_spine(grid) + _ribs(grid, anatomy)) * (body > 0.2)
    image += _vessels(grid, anatomy, generator) * lungs
    image += _end_on_vessels(grid, anatomy, lungs, generator)
    image += _breasts(grid, anatomy)
    if lesion is not None:
        image += nodule_thickness(grid, anatomy, lesion) * np.clip(lungs * 1.5, 0.0, 1.0)
    return image


def expose(
    attenuation_map: np.ndarray,
    *,
    spacing_mm: tuple[float, float],
    blur_mm: float,
    photons_per_pixel: float,
    electronic_noise: float,
    generator: np.random.Generator,
) -> np.ndarray:
    """Simulate the detector: blur, quantum noise and electronic noise.

    The log-signal model: a pixel behind attenuation ``a`` receives
    ``photons_per_pixel × exp(−3a)`` photons, so its relative (log-domain)
    quantum noise has standard deviation ``1 / sqrt(photons)``; expressed in
    attenuation units that is divided by 3. Noise is slightly correlated
    (σ = 0.6 pixel) as in a real scintillator. Returns float64 of the same
    shape as ``attenuation_map``.
    """
    sigma = (blur_mm / spacing_mm[0], blur_mm / spacing_mm[1])
    blurred = ndimage.gaussian_filter(attenuation_map, sigma)
    photons = photons_per_pixel * np.exp(-3.0 * np.clip(blurred, 0.0, None))
    quantum = generator.standard_normal(blurred.shape) / (3.0 * np.sqrt(photons))
    # the blur alone would halve the per-pixel noise; × 1.6 keeps it near its white level
    quantum = ndimage.gaussian_filter(quantum, 0.6) * 1.6
    electronic = electronic_noise * generator.standard_normal(blurred.shape)
    return blurred + quantum + electronic
