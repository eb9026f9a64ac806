"""Tool self-validation (``dxval self-validate``): IQ against the SOUP list, OQ by checks.

Public entry points: :func:`self_validate` (→ :class:`SelfValidation`) and
the check groups :func:`known_answer_checks`, :func:`end_to_end_checks`,
:func:`tamper_checks`, :func:`installation_checks`, each returning
:class:`CheckResult` records.
"""

from __future__ import annotations

from dxval.selfval.checks import CheckResult, compare_exact, compare_values
from dxval.selfval.end_to_end import end_to_end_checks
from dxval.selfval.known_answers import known_answer_checks
from dxval.selfval.run import SelfValidation, installation_checks, self_validate
from dxval.selfval.tamper import bundle_problems, tamper_checks

__all__ = [
    "CheckResult",
    "SelfValidation",
    "bundle_problems",
    "compare_exact",
    "compare_values",
    "end_to_end_checks",
    "installation_checks",
    "known_answer_checks",
    "self_validate",
    "tamper_checks",
]
