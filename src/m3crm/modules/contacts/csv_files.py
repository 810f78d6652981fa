"""Reading an uploaded CSV safely: every way a file can be malformed is a 422 on `file`.

- the text must be UTF-8 (a BOM is allowed, as spreadsheet programs write one);
- the delimiter is the one of `,` `;` tab that splits the header into the most columns,
  and the header must have at least two columns (a file cut by another character reads
  as one column: the wrong-delimiter case);
- no field may exceed `MAX_FIELD` characters (a 10 MB line is refused, not parsed);
- at most `MAX_ROWS` data rows; blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_

DELIMITERS = (",", ";", "\t")
MAX_FIELD = 10_000
MAX_ROWS = 100_000
MAX_COLUMNS = 100


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    delimiter: str
    header: list[str]
    rows: list[list[str]]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message})


def _text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(
            N_('The file is not UTF-8 text. Save it as "CSV UTF-8" and try again.')
        ) from None
    if "\x00" in text:
        raise _refuse(N_("The file is not a text file."))
    return text


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0:
        raise _refuse(N_("No columns found: separate them with commas, semicolons or tabs."))
    return best


def parse_csv(data: bytes, *, delimiter: str | None = None) -> ParsedCsv:
    text = _text(data)
    first_line = text.split("\n", 1)[0]
    if len(first_line) > MAX_FIELD * MAX_COLUMNS:
        raise _refuse(N_("A line of the file is too long."))
    chosen = delimiter or _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=chosen, strict=True)
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 2 or not all(header) or len(header) > MAX_COLUMNS:
            raise _refuse(N_("The header row must name every column (2 to 100 columns)."))
        if len(set(header)) != len(header):
            raise _refuse(N_("Two columns have the same name."))
        rows: list[list[str]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise _refuse(N_("The file has more than 100,000 rows; split it."))
    except csv.Error:
        raise _refuse(
            N_("The file is not valid CSV, or a value is longer than 10,000 characters.")
        ) from None
    finally:
        csv.field_size_limit(previous)
    if not rows:
        raise _refuse(N_("The file has no rows under its header."))
    return ParsedCsv(delimiter=chosen, header=header, rows=rows)
