"""Cells written to a CSV or spreadsheet that a user will open in Excel, WPS or LibreOffice.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return followed by
one) is run as a formula when the file is opened: ``=HYPERLINK(...)`` in a 题名 becomes a link
that sends data away, ``=cmd|...`` starts programs (CSV injection, OWASP). Every export writes its
text cells through ``safe_cell``: such a cell gets a leading apostrophe, which spreadsheets show as
text and do not evaluate. Numbers are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet evaluates (text starting with a formula character is quoted)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


__all__ = ["FORMULA_START", "safe_cell", "safe_row"]
