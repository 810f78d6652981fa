"""Text folding for search and duplicate matching, in Python and in SQL.

`fold(value)` and the SQL function `m3crm_fold(text)` (migration 0005) give the same result
for the same input: a lower-cased string in which Arabic spelling variants that people
type interchangeably compare equal. Search and dedupe compare folded forms on both sides,
so "أحمد" finds "احمد", "مُحَمَّد" finds "محمد", and "٠١٢٣" finds "0123".

Folding rules (one place; the migration builds its `translate()` from these constants):
- harakat (U+064B..U+065F), superscript alef (U+0670) and tatweel (U+0640) are removed;
- alef with hamza above/below, with madda and wasla become a bare alef;
- alef maqsura becomes ya; ta marbuta becomes ha; hamza on waw/ya becomes waw/ya;
- Arabic-Indic and Persian digits become ASCII digits;
- the result is lower-cased (PostgreSQL `lower()`; identical to `str.lower()` for the
  Latin and Arabic text the CRM stores).
"""

from __future__ import annotations

_REMOVED = "".join(chr(c) for c in range(0x064B, 0x0660)) + "\u0670\u0640"
_FROM = "أإآٱىةؤئ" + "٠١٢٣٤٥٦٧٨٩" + "۰۱۲۳۴۵۶۷۸۹"
_TO = "اااايهوي" + "0123456789" + "0123456789"

SQL_TRANSLATE_FROM = _FROM + _REMOVED
"""`translate()` source characters: mapped ones first, then the removed ones."""
SQL_TRANSLATE_TO = _TO
"""`translate()` targets; characters of `SQL_TRANSLATE_FROM` past its length are removed."""

_TABLE = str.maketrans(_FROM, _TO, _REMOVED)


def fold(value: str) -> str:
    """The search form of `value` (see the module docstring); idempotent."""
    return value.translate(_TABLE).lower()


def fold_sql_function() -> str:
    """DDL of `m3crm_fold(text)`: IMMUTABLE and PARALLEL SAFE, so expression indexes
    (trigram GIN) can use it."""
    source = SQL_TRANSLATE_FROM.replace("'", "''")
    target = SQL_TRANSLATE_TO.replace("'", "''")
    return (
        "CREATE OR REPLACE FUNCTION m3crm_fold(value text) RETURNS text"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
        f" RETURN lower(translate(value, '{source}', '{target}'))"
    )


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string that starts with `prefix`, in code-point
    order (= byte order of UTF-8 = collation "C"); `None` when there is none.

    `prefix <= s < prefix_upper_bound(prefix)` holds exactly for the strings `s` starting
    with `prefix`: a range that a btree answers even in a generic (prepared) plan, and that
    row-level security lets the index evaluate (text comparisons are leakproof; `LIKE` is not).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code == 0xD800:  # surrogates cannot be stored: skip the block
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None
