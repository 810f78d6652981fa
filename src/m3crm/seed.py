"""The demo agency (`m3crm seed`): created once, grown by every capability.

Runs as the owner role; each tenant's rows are written with the transaction bound to
that tenant, so RLS checks them exactly as for application traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm.kernel.db.urls import DatabaseUrls
from m3crm.kernel.ids import TenantId
from m3crm.kernel.tenancy.repository import tenant_by_slug
from m3crm.kernel.tenancy.service import create_tenant, create_user
from m3crm.modules.access.service import access
from m3crm.modules.contacts.demo import seed_contacts
from m3crm.modules.identity.secrets import hash_password
from m3crm.modules.plans.service import plan

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published demo login)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    role: str
    name: str


DEMO_USERS = (
    DemoLogin("admin@demo.m3crm.test", "admin", "Mona Hassan"),
    DemoLogin("agent.omar@demo.m3crm.test", "sales_agent", "Omar Khaled"),
    DemoLogin("agent.layla@demo.m3crm.test", "sales_agent", "ليلى عبد الرحمن"),
)


async def seed_demo(urls: DatabaseUrls) -> bool:
    """Create the demo agency unless it exists; `True` when it was created now."""
    engine = create_async_engine(urls.owner)
    try:
        async with AsyncSession(engine) as session, session.begin():
            if await tenant_by_slug(session, DEMO_SLUG) is not None:
                return False
            tenant = await create_tenant(session, name="Nile Crest Realty", slug=DEMO_SLUG)
            tid = TenantId(tenant.id)
            await access.install_role_templates(session, tid)
            await plan.subscribe(session, tid, "DevPro")
            owners = []
            for login in DEMO_USERS:
                arabic = login.email.startswith("agent.layla")
                user = await create_user(
                    session,
                    tenant_id=tid,
                    email=login.email,
                    full_name=login.name,
                    password_hash=hash_password(DEMO_PASSWORD),
                    locale="ar" if arabic else "en",
                )
                await access.assign_role(session, tid, user.id, login.role)
                owners.append(user.id)
            await seed_contacts(session, tid, owners)
            return True
    finally:
        await engine.dispose()
