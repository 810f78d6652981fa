"""`kernel.text.fold` and the SQL `m3crm_fold` agree, and fold what people type alike."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.text import SQL_TRANSLATE_FROM, fold

SAMPLES = [
    ("أحمد", "احمد"),
    ("إيمان", "ايمان"),
    ("آمال", "امال"),
    ("مُحَمَّد", "محمد"),
    ("فاطمة", "فاطمه"),
    ("مصطفى", "مصطفي"),
    ("مســـعود", "مسعود"),
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("Sara@Example.TEST", "sara@example.test"),
]


@pytest.mark.parametrize(("raw", "folded"), SAMPLES)
def test_fold_equates_spelling_variants(raw: str, folded: str) -> None:
    assert fold(raw) == folded
    assert fold(fold(raw)) == folded


@pytest.mark.parametrize(("raw", "folded"), SAMPLES)
async def test_sql_fold_matches_python(session: AsyncSession, raw: str, folded: str) -> None:
    got = (await session.execute(text("SELECT m3crm_fold(:v)"), {"v": raw})).scalar_one()
    assert got == folded


ARABIC_AND_LATIN = st.text(
    alphabet=st.sampled_from(SQL_TRANSLATE_FROM + "ابتثجحخدذرزسشصضطظعغفقكلمنهويءAbZz09 @.-"),
    max_size=30,
)


# The session only reads (SELECT of a pure function): sharing it across examples is safe.
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=ARABIC_AND_LATIN)
async def test_sql_fold_matches_python_on_any_mix(session: AsyncSession, value: str) -> None:
    got = (await session.execute(text("SELECT m3crm_fold(:v)"), {"v": value})).scalar_one()
    assert got == fold(value)
