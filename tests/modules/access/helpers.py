"""Rows of the access module for tests: groups, hierarchy edges, role ids."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.db.session import bind_tenant
from m3crm.kernel.ids import TenantId, new_id
from tests.conftest import World


async def role_id(session: AsyncSession, tenant_id: TenantId, code: str) -> UUID:
    await bind_tenant(session, tenant_id, None)
    found = await session.scalar(
        text("SELECT id FROM roles WHERE tenant_id = :t AND code = :c"), {"t": tenant_id, "c": code}
    )
    assert isinstance(found, UUID), code
    return found


async def insert_group(session: AsyncSession, tenant_id: TenantId, code: str | None = None) -> UUID:
    """A group written straight to the table (no API, no plan check)."""
    await bind_tenant(session, tenant_id, None)
    gid = new_id()
    await session.execute(
        text(
            "INSERT INTO groups (tenant_id, id, code, name, description, is_active)"
            " VALUES (:t, :i, :c, :c, '', true)"
        ),
        {"t": tenant_id, "i": gid, "c": code or f"g_{uuid4().hex[:12]}"},
    )
    return gid


async def insert_edge(session: AsyncSession, tenant_id: TenantId, parent: str, child: str) -> UUID:
    """The edge parent → child between two roles (by code), created when absent."""
    parent_id, child_id = (
        await role_id(session, tenant_id, parent),
        await role_id(session, tenant_id, child),
    )
    await session.execute(
        text(
            "INSERT INTO role_hierarchy (tenant_id, id, parent_role_id, child_role_id)"
            " VALUES (:t, :i, :p, :c) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "i": new_id(), "p": parent_id, "c": child_id},
    )
    found = await session.scalar(
        text(
            "SELECT id FROM role_hierarchy WHERE tenant_id = :t"
            " AND parent_role_id = :p AND child_role_id = :c"
        ),
        {"t": tenant_id, "p": parent_id, "c": child_id},
    )
    assert isinstance(found, UUID)
    return found


async def audit_rows(session: AsyncSession, tenant_id: TenantId, action: str) -> list[Any]:
    await bind_tenant(session, tenant_id, None)
    result = await session.execute(
        text(
            "SELECT before_data, after_data, entity_id FROM audit_logs"
            " WHERE tenant_id = :t AND action = :a ORDER BY id"
        ),
        {"t": tenant_id, "a": action},
    )
    return list(result.all())


async def group_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return await insert_group(session, world.a.id), "groups"


async def edge_ref(session: AsyncSession, app: FastAPI, world: World) -> tuple[UUID, str]:
    return await insert_edge(session, world.a.id, "sales_manager", "sales_agent"), "role_hierarchy"
