"""Test-set manifests, the case model, SHA-256 hashing and dataset locks.

Public entry points: :func:`read_manifest`, :func:`build_cases` (→ :class:`Case`),
:func:`read_predictions` / :func:`check_coverage`, :func:`lock_test_set`,
:func:`file_pin`, :func:`check_pins`, :func:`rewrite_pins`.
"""

from __future__ import annotations

from dxval.data.cases import (
    AttributeSources,
    Case,
    CaseColumns,
    DicomAttributeReader,
    TestSetSource,
    TruthRule,
    build_case_columns,
    build_cases,
)
from dxval.data.hashing import digest_listing, sha256_bytes, sha256_file
from dxval.data.lockfile import PinUpdate, replace_file, rewrite_pins
from dxval.data.locks import (
    LOCK_FORMAT,
    Pin,
    TestSetLock,
    case_input_digest,
    check_pins,
    file_pin,
    lock_test_set,
)
from dxval.data.manifest import Manifest, ManifestRow, csv_records, files_of, read_manifest
from dxval.data.predictions import (
    Prediction,
    PredictionColumns,
    align_predictions,
    check_coverage,
    read_prediction_columns,
    read_predictions,
)

__all__ = [
    "LOCK_FORMAT",
    "AttributeSources",
    "Case",
    "CaseColumns",
    "DicomAttributeReader",
    "Manifest",
    "ManifestRow",
    "Pin",
    "PinUpdate",
    "Prediction",
    "PredictionColumns",
    "TestSetLock",
    "TestSetSource",
    "TruthRule",
    "align_predictions",
    "build_case_columns",
    "build_cases",
    "case_input_digest",
    "check_coverage",
    "check_pins",
    "csv_records",
    "digest_listing",
    "file_pin",
    "files_of",
    "lock_test_set",
    "read_manifest",
    "read_prediction_columns",
    "read_predictions",
    "replace_file",
    "rewrite_pins",
    "sha256_bytes",
    "sha256_file",
]
