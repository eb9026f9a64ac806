"""Library warnings while reading DICOM, captured and turned into value-free reason codes.

pydicom reports malformed elements with ``UserWarning`` messages that quote
the raw value (``Invalid value for VR UI: '1.2.840...'``): a UID, a name, a
date. Those messages never reach the user: every DICOM read in dxval runs
inside :func:`captured`, which records the warnings (and silences pydicom's
logger), and only a :class:`ReaderNote` — a reason code plus, where the
element is known, its tag and keyword — is reported. :func:`install_guard`
is the safety net of the command line: any library warning that escapes a
capture is printed as its reason code only.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from dxval.stats.wording import plural

__all__ = [
    "DxvalNotice",
    "ReaderNote",
    "captured",
    "install_guard",
    "note_code",
    "notes_summary",
]

_LIBRARY_LOGGERS = ("pydicom", "pylibjpeg", "highdicom")
_CODES = (
    (re.compile(r"^Invalid value for VR (\w\w)"), "invalid_value_vr_{0}"),
    (
        re.compile(r"exceeds the maximum length of \d+ allowed for VR (\w\w)"),
        "value_too_long_vr_{0}",
    ),
    (re.compile(r"^Expected explicit VR, but found implicit VR"), "vr_encoding_mismatch"),
    (re.compile(r"^Expected implicit VR, but found explicit VR"), "vr_encoding_mismatch"),
    (re.compile(r"^End of file reached"), "truncated_data_set"),
    (re.compile(r"[Ll]ength.*(odd|invalid)"), "invalid_length"),
)


class DxvalNotice(UserWarning):
    """A warning dxval itself raises; its text holds tags and codes only, never values."""


@dataclass(frozen=True, slots=True)
class ReaderNote:
    """One library warning as a reason code; ``tag``/``keyword`` when the element is known."""

    code: str
    tag: str | None = None
    keyword: str | None = None

    def text(self) -> str:
        """``(gggg,eeee) Keyword: code``, or the code alone."""
        where = " ".join(part for part in (self.tag, self.keyword) if part)
        return f"{where}: {self.code}" if where else self.code


def note_code(message: str) -> str:
    """The reason code of a library warning message (the message itself is discarded)."""
    for pattern, code in _CODES:
        match = pattern.search(message)
        if match is not None:
            return code.format(*(group.upper() for group in match.groups() if group))
    return "library_warning"


@contextmanager
def captured() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block (none is shown) and mute library loggers."""
    loggers = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
    previous = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        for logger, disabled in zip(loggers, previous, strict=True):
            logger.disabled = disabled


def notes_summary(notes: dict[str, set[str]], *, limit: int = 10) -> str:
    """One line: ``note (n cases); ...`` from note text → case IDs, most frequent first."""
    ordered = sorted(notes.items(), key=lambda item: (-len(item[1]), item[0]))
    shown = "; ".join(f"{text} ({plural(len(cases), 'case')})" for text, cases in ordered[:limit])
    more = f"; and {len(ordered) - limit} more" if len(ordered) > limit else ""
    return f"DICOM reader notes (values not shown): {shown}{more}"


def _show(  # noqa: PLR0917 (the signature of warnings.showwarning)
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    import sys

    stream = file if file is not None else sys.stderr
    if issubclass(category, DxvalNotice):
        text = str(message)
    else:  # a library's message may quote a value: print its reason code only
        text = f"library warning ({category.__name__}): {note_code(str(message))}"
    with suppress(OSError, ValueError):
        stream.write(f"dxval: warning: {text}\n")


def install_guard() -> None:
    """Show every warning as a value-free line and mute library loggers (CLI entry)."""
    warnings.showwarning = _show
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        logger.handlers = [logging.NullHandler()]
