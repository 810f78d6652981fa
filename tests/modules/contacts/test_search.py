"""Global search providers for contacts and companies."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import load_subject
from m3crm.kernel.text import fold
from m3crm.modules.search.registry import search_providers
from tests.conftest import World
from tests.modules.contacts.helpers import make_company, make_contact


async def run(session: AsyncSession, world: World, type: str, query: str) -> list[str]:
    subject = await load_subject(session, world.a.id, world.a.admin_id)
    assert subject is not None
    provider = next(p for p in search_providers() if p.type == type)
    return [hit.title for hit in await provider.search(session, subject, fold(query), 10)]


async def test_contacts_by_folded_name_and_phone_suffix(
    session: AsyncSession, world: World
) -> None:
    await make_contact(
        session, world.a, first_name="أَحْمَد", last_name="مصطفى", phone="+971501230099"
    )
    await make_contact(session, world.b, first_name="احمد", last_name="مصطفى")
    assert await run(session, world, "contacts", "احمد مصطفي") == ["أَحْمَد مصطفى"]
    assert await run(session, world, "contacts", "0099") == ["أَحْمَد مصطفى"]
    assert await run(session, world, "contacts", "zzz-nothing") == []


async def test_companies_by_name_or_domain(session: AsyncSession, world: World) -> None:
    await make_company(session, world.a, name="إعمار مصر", domain="emaar-misr.example")
    assert await run(session, world, "companies", "اعمار") == ["إعمار مصر"]
    assert await run(session, world, "companies", "emaar") == ["إعمار مصر"]


async def test_private_contacts_stay_private_in_search(session: AsyncSession, world: World) -> None:
    await make_contact(session, world.a, first_name="Hidden", last_name="Person",
                       owner_id=world.a.agent_id, is_private=True)  # fmt: skip
    subject = await load_subject(session, world.a.id, world.a.member_id)
    assert subject is not None
    provider = next(p for p in search_providers() if p.type == "contacts")
    hits = await provider.search(session, subject, fold("hidden"), 10)
    admin_hits = await run(session, world, "contacts", "hidden")
    assert hits == [] and admin_hits == ["Hidden Person"]
