"""Counts in words: the one helper every layer uses to write "1 case", "3 cases".

It lives here, at the bottom of the import graph (DESIGN.md), so that the
reasons written into ``metrics.json`` by the analysis and the text of the
report (``dxval.report.formatting.plural``) agree in number the same way,
never "case(s)".
"""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` with its noun in the right number: ``1 case``, ``3 sites``, ``0 cases``.

    Parameters
    ----------
    count
        how many; 1 takes the singular, every other count the plural.
    singular
        the noun (or noun phrase) in the singular.
    plural_form
        the plural where it is not ``singular + "s"`` (``"studies"``).

    Examples
    --------
    >>> plural(1, "case"), plural(0, "positive case"), plural(2, "study", "studies")
    ('1 case', '0 positive cases', '2 studies')
    """
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {noun}"
