"""The case model: manifests, truth labels and attributes → one :class:`Case` per row.

Truth labels are matched exactly as text against the protocol's declared
positive and negative labels; a label outside both is an error, never a
guess. Attribute values are kept as text (binning happens in
:mod:`dxval.analysis.populations`); an empty cell is a missing value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from dxval.data.locks import TestSetLock, case_input_digest
from dxval.data.manifest import CASE_ID_COLUMN, Manifest, ManifestRow
from dxval.errors import InputError

if TYPE_CHECKING:  # numpy is imported when cases are built, not by `dxval --help`
    import numpy as np
    import numpy.typing as npt

DicomAttributeReader = Callable[[Path, Sequence[str]], Mapping[str, str]]
"""Reads DICOM keywords from one file → keyword → value as text ('' when absent)."""


@dataclass(frozen=True, slots=True)
class Case:
    """One case of one test set, with everything the analysis needs."""

    case_id: str
    test_set: str
    site: str
    truth_label: str
    truth: bool
    attributes: Mapping[str, str]
    files: tuple[Path, ...]
    input_sha256: str | None
    source: str


@dataclass(frozen=True, slots=True)
class TruthRule:
    """Which manifest column holds truth and which labels are positive/negative."""

    column: str
    positive: frozenset[str]
    negative: frozenset[str]

    def classify(self, label: str, *, where: str) -> bool:
        """True for a positive label, False for a negative one.

        Raises
        ------
        InputError
            ``label`` is neither (the message lists the declared labels).
        """
        if label in self.positive:
            return True
        if label in self.negative:
            return False
        declared = ", ".join(repr(value) for value in sorted(self.positive | self.negative))
        raise InputError(
            f"{where} {self.column}: got {label!r} expected one of {declared} "
            "(truth.positive/truth.negative)"
        )


@dataclass(frozen=True, slots=True)
class AttributeSources:
    """Where each subgroup attribute comes from: a manifest column or a DICOM keyword."""

    columns: Mapping[str, str] = field(default_factory=dict)
    dicom: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TestSetSource:
    """One test set's parsed manifest with its ID, site and (optional) lock."""

    __test__: ClassVar[bool] = False  # not a pytest test class despite its name

    test_set: str
    site: str
    manifest: Manifest
    lock: TestSetLock | None = None


def _require_columns(source: TestSetSource, rule: TruthRule, attributes: AttributeSources) -> None:
    manifest = source.manifest
    needed = {rule.column: "truth.column"}
    needed.update(
        {column: f"attributes.{name}.column" for name, column in attributes.columns.items()}
    )
    for column, origin in needed.items():
        if column not in manifest.columns:
            raise InputError(
                f"{manifest.path}: got columns {list(manifest.columns)} "
                f"expected a {column!r} column ({origin})"
            )
    if attributes.dicom and not manifest.has_paths:
        name = next(iter(attributes.dicom))
        raise InputError(
            f"{manifest.path}: got no 'path' column expected DICOM files to read "
            f"attribute {name!r} (attributes.{name}.dicom)"
        )


def _attributes(
    row: ManifestRow, attributes: AttributeSources, reader: DicomAttributeReader | None
) -> dict[str, str]:
    values = {name: row.values[column] for name, column in attributes.columns.items()}
    if attributes.dicom:
        if reader is None:
            raise InputError(
                "attributes read from DICOM need dxval.dicom.attributes, which this build lacks"
            )
        found = reader(row.files[0], list(attributes.dicom.values()))
        values.update({name: found.get(keyword, "") for name, keyword in attributes.dicom.items()})
    return values


def _input_digest(source: TestSetSource, row: ManifestRow) -> str | None:
    if source.lock is None or not row.names:
        return None
    digests = source.lock.file_sha256()
    return case_input_digest((name, digests[name]) for name in row.names)


def build_cases(
    sources: Sequence[TestSetSource],
    rule: TruthRule,
    *,
    attributes: AttributeSources | None = None,
    dicom_reader: DicomAttributeReader | None = None,
) -> tuple[Case, ...]:
    """Turn every manifest row into a :class:`Case`, in manifest order.

    Raises
    ------
    InputError
        A missing truth or attribute column, a truth label outside the
        declared classes, or a case ID used in two test sets.
    """
    attributes = attributes or AttributeSources()
    cases: list[Case] = []
    origin: dict[str, str] = {}
    for source in sources:
        _require_columns(source, rule, attributes)
        for row in source.manifest.rows:
            where = source.manifest.location(row)
            if row.case_id in origin:
                raise InputError(
                    f"{where} case_id: got {row.case_id!r}, already in {origin[row.case_id]}, "
                    "expected case IDs unique across test sets"
                )
            origin[row.case_id] = where
            label = row.values[rule.column]
            cases.append(
                Case(
                    case_id=row.case_id,
                    test_set=source.test_set,
                    site=source.site,
                    truth_label=label,
                    truth=rule.classify(label, where=where),
                    attributes=_attributes(row, attributes, dicom_reader),
                    files=row.files,
                    input_sha256=_input_digest(source, row),
                    source=where,
                )
            )
    return tuple(cases)


@dataclass(frozen=True, slots=True)
class CaseColumns:
    """Every case of the test sets as columns, in manifest order (no per-case objects).

    ``attributes`` holds each manifest-column attribute's text as read;
    :attr:`manifests` the test sets' manifests, for the row-by-row fallback.
    """

    case_ids: npt.NDArray[np.str_]
    test_sets: npt.NDArray[np.str_]
    sites: npt.NDArray[np.str_]
    truth_labels: npt.NDArray[np.str_]
    truth: npt.NDArray[np.bool_]
    attributes: Mapping[str, npt.NDArray[np.str_]]

    @property
    def size(self) -> int:
        """Number of cases."""
        return int(self.case_ids.shape[0])


def build_case_columns(
    sources: Sequence[TestSetSource], rule: TruthRule, *, attributes: AttributeSources
) -> CaseColumns:
    """:func:`build_cases` as columns, for test sets whose manifests name no files.

    Every rule of :func:`build_cases` is checked on whole columns; on any
    problem :func:`build_cases` runs row by row and raises its one-line error.

    Raises
    ------
    ValueError
        Attributes read from DICOM, or a manifest with a ``path`` column
        (their cases need files: use :func:`build_cases`).
    InputError
        As :func:`build_cases`.
    """
    import numpy as np

    from dxval.data.columnar import has_duplicates

    if attributes.dicom or any(source.manifest.has_paths for source in sources):
        raise ValueError("build_case_columns takes manifests without files")
    parts: dict[str, list[npt.NDArray[np.str_]]] = {"case_ids": [], "test_sets": [], "sites": []}
    labels: list[npt.NDArray[np.str_]] = []
    truth: list[npt.NDArray[np.bool_]] = []
    values: dict[str, list[npt.NDArray[np.str_]]] = {name: [] for name in attributes.columns}
    for source in sources:  # in order, so that the first error is build_cases' first error
        _require_columns(source, rule, attributes)
        manifest = source.manifest
        ids = manifest.column(CASE_ID_COLUMN)
        label = manifest.column(rule.column)
        is_positive = _among(label, rule.positive)
        parts["case_ids"].append(ids)
        if len(parts["case_ids"]) > 1 and has_duplicates(np.concatenate(parts["case_ids"])):
            _row_by_row(sources, rule, attributes)
        if not (is_positive | _among(label, rule.negative)).all():
            _row_by_row(sources, rule, attributes)
        parts["test_sets"].append(_constant(source.test_set, manifest.size))
        parts["sites"].append(_constant(source.site, manifest.size))
        labels.append(label)
        truth.append(is_positive)
        for name, column in attributes.columns.items():
            values[name].append(manifest.column(column))
    return CaseColumns(
        case_ids=_joined(parts["case_ids"]),
        test_sets=_joined(parts["test_sets"]),
        sites=_joined(parts["sites"]),
        truth_labels=_joined(labels),
        truth=_joined(truth),
        attributes={name: _joined(columns) for name, columns in values.items()},
    )


def _constant(text: str, size: int) -> npt.NDArray[np.str_]:
    """``size`` copies of ``text`` as a read-only view of one value (no memory per case)."""
    import numpy as np

    return np.broadcast_to(np.array(text), (size,))


def _joined(parts: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """One test set's column as it is (shared with its manifest), several concatenated."""
    import numpy as np

    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _among(values: npt.NDArray[np.str_], allowed: frozenset[str]) -> npt.NDArray[np.bool_]:
    """Whether each value is one of ``allowed`` (a protocol's few truth labels)."""
    import numpy as np

    found = np.zeros(values.shape[0], dtype=bool)
    for label in allowed:
        found |= values == label
    return found


def _row_by_row(
    sources: Sequence[TestSetSource], rule: TruthRule, attributes: AttributeSources
) -> NoReturn:
    """Run :func:`build_cases` for its error message (the columns found a problem)."""
    build_cases(sources, rule, attributes=attributes)
    raise AssertionError("build_cases accepted cases the column checks refused")
