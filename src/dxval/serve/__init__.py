"""The auditor's read-only web view over an evidence root (``dxval serve``).

:mod:`dxval.serve.index` keeps an SQLite index of the bundles (where they
are, never their numbers); :mod:`dxval.serve.views` reads every page's values
from the bundle files; :mod:`dxval.serve.app` is the Starlette application
and the uvicorn server (the optional ``serve`` extra), imported only when a
server is wanted.
"""

from __future__ import annotations

from dxval.serve.index import (
    FAILED_VERIFY,
    INDEX_NAME,
    VERIFIED,
    EvidenceIndex,
    IndexedBundle,
    RefreshResult,
    VerifyStatus,
    bundle_stamp,
    find_bundle_folders,
)

__all__ = [
    "FAILED_VERIFY",
    "INDEX_NAME",
    "VERIFIED",
    "EvidenceIndex",
    "IndexedBundle",
    "RefreshResult",
    "VerifyStatus",
    "bundle_stamp",
    "find_bundle_folders",
]
