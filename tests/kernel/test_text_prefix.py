"""`kernel.text.prefix_upper_bound`: `p <= s < bound` exactly when `s` starts with `p`,
in Python's order and in PostgreSQL's collation "C"."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.text import prefix_upper_bound

STORABLE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
SHORT = st.text(alphabet=st.sampled_from("ab\U0010ffff\ud7ffاي"), max_size=4)


def in_range(value: str, prefix: str) -> bool:
    bound = prefix_upper_bound(prefix)
    return prefix <= value and (bound is None or value < bound)


def test_edges() -> None:
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("") is None
    assert prefix_upper_bound("\U0010ffff") is None
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\ud7ff") == "\ue000"


@given(prefix=SHORT, value=SHORT)
def test_range_is_exactly_the_prefix_matches(prefix: str, value: str) -> None:
    assert in_range(value, prefix) == value.startswith(prefix)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(prefix=st.text(STORABLE, max_size=3), value=st.text(STORABLE, max_size=5))
async def test_collation_c_agrees(session: AsyncSession, prefix: str, value: str) -> None:
    bound = prefix_upper_bound(prefix)
    got = (
        await session.execute(
            text(
                'SELECT CAST(:v AS text) COLLATE "C" >= :p'
                ' AND (CAST(:b AS text) IS NULL OR CAST(:v AS text) COLLATE "C" < :b)'
            ),
            {"v": value, "p": prefix, "b": bound},
        )
    ).scalar_one()
    assert got == value.startswith(prefix)
