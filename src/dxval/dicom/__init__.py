"""DICOM reading, decoding, pixel transforms, attributes and the PHI scan.

Importing this package is cheap (pydicom and numpy are loaded by the modules
that need them): the protocol imports :mod:`dxval.dicom.steps`, and the
inference harness pickles :class:`dxval.dicom.loader.CaseLoader` into worker
processes.

Modules
-------
steps       plain preprocessing steps, their order check and the preprocessing digest
failures    :class:`CaseFailure` and its closed set of reason codes
decoders    which permissively licensed plugin decodes a transfer syntax, with its version
reader      single files, multi-frame files, series folders → :class:`Image`
series      CT/MR slice sorting along the slice normal, consistency checks, stacking, resampling
pixels      pure pixel transforms citing DICOM PS3.3 C.11.1 / C.11.2
pipeline    applies a list of ops to an :class:`Image`
attributes  subgroup attributes (PatientAge → years, any keyword)
phi_table   DICOM PS3.15 Table E.1-1 as data (source and edition in its docstring)
phi         PHI scan per DICOM PS3.15 Annex E Table E.1-1
loader      :class:`CaseLoader`, the picklable case → tensor callable
inspection  the report of ``dxval dicom inspect``
preview     the contact sheet of ``dxval preview``
"""

from __future__ import annotations

from dxval.dicom.failures import CaseFailure, ReasonCode

__all__ = ["CaseFailure", "ReasonCode"]
