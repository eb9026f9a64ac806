"""dxval: validation of medical-imaging AI models for regulatory submissions.

A QA/RA engineer writes a declarative validation protocol; ``validate
protocol.yaml`` runs the locked model over pinned DICOM test sets, computes
the performance statistics with their confidence intervals, evaluates the
pre-specified acceptance criteria and writes a tamper-evident evidence bundle.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dxval")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
