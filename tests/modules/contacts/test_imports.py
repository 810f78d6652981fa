"""CSV import: upload → mapping → preview → commit (an OperationRun), malformed files."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.auth import load_subject
from m3crm.kernel.db.session import Database, bind_tenant
from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.runs.context import RunContext
from m3crm.modules.contacts.jobs import import_contacts
from tests.conftest import World
from tests.factories import SeededTenant
from tests.modules.contacts.helpers import make_company, make_contact, make_field
from tests.modules.contacts.test_contacts_api import staff_headers

URL = "/v1/contacts/imports"
GOOD = (
    "First Name,Last Name,Email,Phone,Company,Lifecycle Stage\n"
    "محمد,علي,mohamed.ali@example.test,+201001230001,Nile Towers,customer\n"
    "Sara,Ahmed,sara.ahmed@example.test,+971501230002,,lead\n"
)


async def upload(
    client: httpx.AsyncClient, world: World, data: bytes, name: str = "c.csv"
) -> httpx.Response:
    files = {"file": (name, data, "text/csv")}
    return await client.post(URL, files=files, headers=world.headers(world.a))


async def run_import(
    session: AsyncSession, database: Database, tenant: SeededTenant, import_id: str, run_id: str,
    skip: bool = False,
) -> dict[str, Any]:  # fmt: skip
    subject = await load_subject(session, tenant.id, tenant.admin_id)
    assert subject is not None
    ctx = RunContext(
        session=session, subject=subject, run_id=UUID(run_id),
        payload={"import_id": import_id, "skip_duplicates": skip}, database=database,
    )  # fmt: skip
    return await import_contacts(ctx)


async def count_named(session: AsyncSession, world: World, name: str) -> int:
    await bind_tenant(session, world.a.id, None)
    found = await session.execute(
        text("SELECT count(*) FROM contacts WHERE tenant_id = :t AND last_name = :n"),
        {"t": world.a.id, "n": name},
    )
    return int(found.scalar_one())


async def test_full_flow_imports_every_row(
    client: httpx.AsyncClient, session: AsyncSession, world: World, database: Database
) -> None:
    await make_company(session, world.a, name="Nile Towers")
    made = await upload(client, world, GOOD.encode("utf-8-sig"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["row_count"] == 2
    assert body["mapping"] == {
        "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone": "phone", "Company": "company", "Lifecycle Stage": "lifecycle_stage",
    }  # fmt: skip
    headers = world.headers(world.a)
    early = await client.post(f"{URL}/{body['id']}/commit", json={}, headers=headers)
    assert early.status_code == 409
    previewed = await client.post(f"{URL}/{body['id']}/preview", headers=headers)
    assert previewed.json()["summary"]["valid"] == 2, previewed.text
    committed = await client.post(f"{URL}/{body['id']}/commit", json={}, headers=headers)
    assert committed.status_code == 202, committed.text
    run = committed.json()
    assert run["type"] == "contacts.import" and run["status"] == "queued"
    result = await run_import(session, database, world.a, body["id"], run["id"])
    assert result == {"imported": 2, "skipped_duplicates": 0}
    found = await client.get("/v1/contacts", params={"q": "mohamed.ali@"}, headers=headers)
    contact = found.json()["items"][0]
    assert contact["lifecycle_stage"] == "customer" and contact["company_id"] is not None
    locked = await client.put(f"{URL}/{body['id']}/mapping", json={"mapping": {}}, headers=headers)
    assert locked.status_code == 409


async def test_preview_reports_row_errors_and_duplicates(
    client: httpx.AsyncClient, session: AsyncSession, world: World, database: Database
) -> None:
    held = await make_contact(session, world.a, email="held@example.test")
    data = (
        "first_name;last_name;email;phone\n"
        "Ok;Dupcheck;fine@example.test;\n"
        ";Dupcheck;;\n"
        "Dup;Dupcheck;HELD@example.test;\n"
        "Badphone;Dupcheck;;+20 12\n"
        "Twice;Dupcheck;fine@example.test;\n"
    )
    made = (await upload(client, world, data.encode())).json()
    headers = world.headers(world.a)
    summary = (await client.post(f"{URL}/{made['id']}/preview", headers=headers)).json()["summary"]
    assert (summary["valid"], summary["invalid"], summary["duplicates"]) == (1, 4, 1)
    problems = {p["line"]: p for p in summary["problems"]}
    assert "first_name" in problems[3]["errors"]
    assert problems[4]["duplicate_of"] == str(held.id)
    assert "phone" in problems[5]["errors"]
    assert "email" in problems[6]["errors"]
    report = await client.get(f"{URL}/{made['id']}/errors.csv", headers=headers)
    assert report.status_code == 200 and report.text.startswith("line,column,message")
    assert len(report.text.strip().splitlines()) == 5
    refused = await client.post(
        f"{URL}/{made['id']}/commit", json={"skip_duplicates": True}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["error"]["details"]["invalid"] == 3


async def test_run_writes_nothing_when_a_row_became_invalid(
    client: httpx.AsyncClient, session: AsyncSession, world: World, database: Database
) -> None:
    data = "first_name,last_name,email\nOne,Atomic,one@example.test\nTwo,Atomic,two@example.test\n"
    made = (await upload(client, world, data.encode())).json()
    headers = world.headers(world.a)
    await client.post(f"{URL}/{made['id']}/preview", headers=headers)
    run = (await client.post(f"{URL}/{made['id']}/commit", json={}, headers=headers)).json()
    await make_contact(session, world.a, first_name="Late", email="two@example.test")
    with pytest.raises(ValidationFailed):
        await run_import(session, database, world.a, made["id"], run["id"])
    assert await count_named(session, world, "Atomic") == 0


async def test_skip_duplicates_imports_the_rest(
    client: httpx.AsyncClient, session: AsyncSession, world: World, database: Database
) -> None:
    await make_contact(session, world.a, email="old@example.test")
    data = (
        "first_name,last_name,email\nNew,Skipper,new@example.test\nOld,Skipper,old@example.test\n"
    )
    made = (await upload(client, world, data.encode())).json()
    headers = world.headers(world.a)
    await client.post(f"{URL}/{made['id']}/preview", headers=headers)
    run = await client.post(
        f"{URL}/{made['id']}/commit", json={"skip_duplicates": True}, headers=headers
    )
    assert run.status_code == 202
    result = await run_import(session, database, world.a, made["id"], run.json()["id"], skip=True)
    assert result == {"imported": 1, "skipped_duplicates": 1}
    assert await count_named(session, world, "Skipper") == 1


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("الاسم,البريد\nأحمد,a@example.test\n".encode("cp1256"), "bad encoding"),
        (b"first_name|last_name\nA|B\n", "wrong delimiter"),
        (b"first_name,notes\nA," + b"x" * (10 * 1024 * 1024) + b"\n", "10 MB line"),
        (b"first_name,last_name\n", "no rows"),
        (b"", "empty"),
        (b'first_name,last_name\n"unterminated,B\n', "broken quoting"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
async def test_malformed_files_are_422(
    client: httpx.AsyncClient, world: World, data: bytes, why: str
) -> None:
    response = await upload(client, world, data)
    assert response.status_code == 422, (why, response.text[:200])
    assert "file" in response.json()["error"]["details"]["fields"], why


async def test_mapping_is_checked(client: httpx.AsyncClient, world: World) -> None:
    made = (await upload(client, world, GOOD.encode())).json()
    headers = world.headers(world.a)
    cases = [
        ({"Nope": "first_name"}, "mapping.Nope"),
        ({"First Name": "salary"}, "mapping.First Name"),
        ({"Email": "email"}, "mapping"),
        ({"First Name": "first_name", "Last Name": "first_name"}, "mapping.Last Name"),
    ]
    for mapping, field in cases:
        response = await client.put(
            f"{URL}/{made['id']}/mapping", json={"mapping": mapping}, headers=headers
        )
        assert response.status_code == 422
        assert field in response.json()["error"]["details"]["fields"], mapping


async def test_import_negative_paths(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    files = {"file": ("c.csv", GOOD.encode(), "text/csv")}
    assert (await client.post(URL, files=files)).status_code == 401
    member = world.headers(world.a, "member")
    assert (await client.post(URL, files=files, headers=member)).status_code == 403
    made = (await upload(client, world, GOOD.encode())).json()
    other = world.headers(world.b)
    for method, path in (("GET", ""), ("POST", "/preview"), ("GET", "/errors.csv")):
        response = await client.request(method, f"{URL}/{made['id']}{path}", headers=other)
        assert response.status_code == 404
    agent = world.headers(world.a, "agent")
    assert (await client.get(f"{URL}/{made['id']}", headers=agent)).status_code == 404


async def test_export_csv_and_xlsx(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.a, first_name="=HYPERLINK(1)", last_name="Exported",
                       email="exp@example.test")  # fmt: skip
    headers = world.headers(world.a)
    response = await client.get("/v1/contacts/export", params={"q": "exported"}, headers=headers)
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,first_name,last_name")
    assert len(lines) == 2 and "'=HYPERLINK(1)" in lines[1] and "exp@example.test" in lines[1]
    xlsx = await client.get(
        "/v1/contacts/export", params={"q": "exported", "format": "xlsx"}, headers=headers
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    await bind_tenant(session, world.a.id, None)
    audited = await session.execute(
        text(
            "SELECT count(*) FROM audit_logs WHERE tenant_id = :t AND action = 'contact.exported'"
        ),
        {"t": world.a.id},
    )
    assert audited.scalar_one() == 2


async def test_export_needs_reports_export(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    assert (await client.get("/v1/contacts/export")).status_code == 401
    staff = await staff_headers(session, world)
    assert (await client.get("/v1/contacts/export", headers=staff)).status_code == 403
    bad = await client.get(
        "/v1/contacts/export", params={"format": "pdf"}, headers=world.headers(world.a)
    )
    assert bad.status_code == 422


async def test_unique_custom_values_are_checked_in_the_preview(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="national_id", unique=True)
    headers = world.headers(world.a)
    held = await client.post(
        "/v1/contacts", json={"first_name": "Held", "custom_fields": {"national_id": "A1"}},
        headers=headers,
    )  # fmt: skip
    assert held.status_code == 201
    data = "first_name,national_id\nOne,A1\nTwo,B2\nThree,B2\n"
    made = (await upload(client, world, data.encode())).json()
    assert made["mapping"] == {"first_name": "first_name", "national_id": "cf.national_id"}
    summary = (await client.post(f"{URL}/{made['id']}/preview", headers=headers)).json()["summary"]
    problems = {p["line"]: p["errors"] for p in summary["problems"]}
    assert set(problems) == {2, 4}
    assert "cf.national_id" in problems[2] and "cf.national_id" in problems[4]
