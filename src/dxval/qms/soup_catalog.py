"""What each directly used SOUP item does in dxval, its risk class and how it is verified.

IEC 62304 §5.3.3 and §8.1.2 ask, for each item of software of unknown
provenance, its title, manufacturer, version, purpose, the functional and
performance requirements dxval places on it and how they are verified. The
name, version and licence come from the installed distribution's metadata
(:mod:`dxval.qms.soup`); the purpose, risk class and verification are dxval's
own statements, kept here so ``dxval qms soup`` can regenerate the list. A
direct dependency missing from this catalog stops the generation: adding a
dependency means saying why it is there and how it is verified.

Risk classes: ``high`` – its failure could change a number, a verdict or the
integrity of the evidence without being noticed by the user; ``medium`` –
its failure stops a run or corrupts an input loudly; ``low`` – its failure
affects presentation only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SoupPurpose:
    """dxval's statement about one SOUP item."""

    purpose: str
    risk_class: str
    verification: str


RISK_CLASSES = ("high", "medium", "low")

CATALOG: Mapping[str, SoupPurpose] = {
    "numpy": SoupPurpose(
        "Array arithmetic behind every statistic, pixel transform and model input.",
        "high",
        "Known-answer tests of every statistic against R (pROC, binom) and statsmodels "
        "to 1e-9 relative (tests/stats, dxval self-validate); pixel transforms against dcmtk.",
    ),
    "scipy": SoupPurpose(
        "Normal and beta quantiles for confidence intervals, rank statistics, Fisher's test.",
        "high",
        "Known-answer tests of the interval methods against R and statsmodels reference values "
        "(tests/stats, dxval self-validate).",
    ),
    "pandas": SoupPurpose(
        "Reading CSV files of scores for dxval metrics.",
        "medium",
        "Unit tests of the CSV readers with malformed input (tests/commands/test_metrics.py).",
    ),
    "pillow": SoupPurpose(
        "JPEG re-compression of decoded images for robustness perturbations.",
        "medium",
        "Perturbation tests: deterministic output, error growing as quality falls "
        "(tests/dicom/test_perturbations.py).",
    ),
    "pydantic": SoupPurpose(
        "Validation of protocols and QMS records against their schemas (edge only).",
        "high",
        "Schema tests: every invalid field is refused with its location (tests/protocol).",
    ),
    "ruamel.yaml": SoupPurpose(
        "YAML parsing with line numbers; rewriting pins into protocols keeping comments.",
        "medium",
        "Protocol loader and lock tests (tests/protocol, tests/dataset/test_lockfile.py).",
    ),
    "pydicom": SoupPurpose(
        "Reading DICOM files: headers, pixel data, native decoders.",
        "high",
        "Decoder tests on real files and pixel transforms compared with dcmtk's dcm2pnm "
        "(tests/dicom); end-to-end self-validation on generated DICOM.",
    ),
    "pylibjpeg": SoupPurpose(
        "Plugin framework for compressed DICOM pixel decoders.",
        "high",
        "Decoder tests on compressed real files against uncompressed originals (tests/dicom).",
    ),
    "pylibjpeg-openjpeg": SoupPurpose(
        "JPEG 2000 and HTJ2K pixel decoding.",
        "high",
        "Lossless JPEG 2000 files decoded equal to their uncompressed originals (tests/dicom).",
    ),
    "pylibjpeg-rle": SoupPurpose(
        "RLE Lossless pixel decoding.",
        "high",
        "RLE files decoded equal to their uncompressed originals (tests/dicom, demo site B).",
    ),
    "python-gdcm": SoupPurpose(
        "JPEG Lossless, JPEG-LS and fallback JPEG decoding.",
        "high",
        "Lossless files decoded equal to their uncompressed originals (tests/dicom).",
    ),
    "onnxruntime": SoupPurpose(
        "Running frozen ONNX model artifacts.",
        "high",
        "Golden-output check pinned in each protocol; runner tests against known outputs and "
        "concordance with torch (tests/inference).",
    ),
    "jinja2": SoupPurpose(
        "Rendering HTML reports and the tool-validation report from view objects.",
        "low",
        "Report rendering tests with StrictUndefined (templates fail on missing data).",
    ),
    "matplotlib": SoupPurpose(
        "Figures: ROC curves, forest plots, calibration plots, preview contact sheets.",
        "low",
        "Figure and preview tests; numbers in figures come from the bundle, never recomputed.",
    ),
    "cryptography": SoupPurpose(
        "Ed25519 electronic signatures and passphrase-encrypted key files.",
        "high",
        "Signature tests: a signed bundle verifies; any changed byte, added file or edited "
        "audit line is detected; a wrong passphrase is refused (tests/evidence, self-validate).",
    ),
    "torch": SoupPurpose(
        "Optional runtime for TorchScript and torch.export model artifacts.",
        "high",
        "Golden-output check pinned in each protocol; runner tests and ONNX concordance "
        "(tests/inference).",
    ),
    "packaging": SoupPurpose(
        "Comparing installed versions with the SOUP list (installation qualification).",
        "medium",
        "SOUP and self-validation tests (tests/qms, tests/selfval).",
    ),
    "starlette": SoupPurpose(
        "Optional (serve extra): routing and responses of the auditor's read-only web view.",
        "medium",
        "HTTP tests through its test client and a real server: every page read from the "
        "bundles, 405 for writing methods, 404 for traversal and symlinks (tests/serve).",
    ),
    "uvicorn": SoupPurpose(
        "Optional (serve extra): the HTTP server of dxval serve, bound to 127.0.0.1 by default.",
        "medium",
        "Raw-HTTP attack tests and the browser test run against it (tests/serve).",
    ),
    "ray": SoupPurpose(
        "Optional (ray extra): validate --executor ray decodes and scores on a Ray cluster "
        "(Ray Data tasks and an actor pool).",
        "high",
        "Ray and local runs compared byte for byte (cases.csv, metrics.json, criteria.json), "
        "a killed actor loses no case, worker version mismatch refused (tests/inference).",
    ),
    "weasyprint": SoupPurpose(
        "HTML to PDF conversion of reports.",
        "low",
        "Report tests check the PDF's text against the bundle.",
    ),
    "nibabel": SoupPurpose(
        "Reading NIfTI segmentation masks and their voxel spacing (dxval segmentation).",
        "high",
        "Round-trip tests of NIfTI masks with known spacing; shape and spacing mismatches "
        "reported as reason codes (tests/commands/test_segmentation.py).",
    ),
    "pynetdicom": SoupPurpose(
        "Optional (extra pacs): C-FIND and C-GET of test sets from a PACS over DIMSE.",
        "medium",
        "Pulls from a live Orthanc: data sets byte-identical to the stored files, SHA-256 of "
        "every file recorded and re-verified on resume; AE and connection errors stop the "
        "pull (tests/interop/test_pull.py).",
    ),
    "highdicom": SoupPurpose(
        "Reading DICOM SEG masks as label maps with their geometry (extra segmentation: "
        "dxval segmentation) and building the Comprehensive SR (TID 1500) result documents "
        "(extra pacs: dxval export sr).",
        "high",
        "Reader tests on DICOM SEG written by highdicom with known segments and spacing "
        "(tests/data/test_masks.py); every exported SR passes dciodvfy without errors and its "
        "score equals cases.csv bit for bit (tests/interop/test_export.py).",
    ),
    "fhir.resources": SoupPurpose(
        "Optional (extra pacs): validating the exported FHIR R4 Bundle (R4B models).",
        "medium",
        "The exported Bundle is re-validated and its scores equal cases.csv "
        "(tests/interop/test_export.py).",
    ),
}
