"""Contact and company screens, in English and Arabic, through the same services."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.modules.contacts.models import Lifecycle
from m3crm.modules.customfields.models import EntityType, FieldType
from tests.conftest import World
from tests.modules.contacts.helpers import make_company, make_contact, make_field
from tests.modules.contacts.test_verification import sent_code
from tests.web.test_pages import cookie

HTMX = {"HX-Request": "true"}


async def test_list_search_and_chips(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.a, first_name="مُحَمَّد", last_name="عادل", phone="+201001119988")
    page = await client.get("/contacts", params={"q": "محمد عادل"}, headers=cookie(world))
    assert page.status_code == 200
    assert "مُحَمَّد عادل" in page.text and 'data-testid="contacts-table"' in page.text
    partial = await client.get(
        "/contacts",
        params={"q": "9988"},
        headers=cookie(world) | HTMX | {"HX-Target": "contacts-table"},
    )
    assert partial.text.lstrip().startswith('<div id="contacts-table"')
    assert "مُحَمَّد عادل" in partial.text
    arabic = await client.get("/contacts", headers=cookie(world, "agent"))
    assert 'dir="rtl"' in arabic.text


async def test_create_with_arabic_name_and_egyptian_mobile(
    client: httpx.AsyncClient, world: World
) -> None:
    form = {"first_name": "سَلمى", "last_name": "فؤاد", "lifecycle_stage": "lead", "phone": "+20 100 765 4321",
            "email": "", "whatsapp": "", "company_id": "", "owner_user_id": ""}  # fmt: skip
    made = await client.post("/contacts", data=form, headers=cookie(world) | HTMX)
    assert made.status_code == 204, made.text
    profile_url = made.headers["HX-Redirect"]
    profile = await client.get(profile_url, headers=cookie(world))
    assert "سَلمى فؤاد" in profile.text and "+201007654321" in profile.text
    assert "contact.created" in profile.text


async def test_form_errors_come_back_beside_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    form = {"first_name": "X", "lifecycle_stage": "lead", "phone": "+20 12"}
    refused = await client.post("/contacts", data=form, headers=cookie(world) | HTMX)
    assert refused.status_code == 422
    assert 'id="f-phone-error"' in refused.text
    assert (await client.post("/contacts", data=form, headers=cookie(world))).status_code == 403


async def test_edit_and_merge_screens(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    target = await make_contact(session, world.a, first_name="Karim", last_name="Nabil")
    source = await make_contact(session, world.a, first_name="karim", last_name="nabil",
                                email="karim@example.test")  # fmt: skip
    edit = await client.get(f"/contacts/{target.id}/edit", headers=cookie(world))
    assert edit.status_code == 200 and 'name="first_name"' in edit.text
    saved = await client.post(
        f"/contacts/{target.id}",
        data={
            "first_name": "Karim",
            "last_name": "Nabil",
            "job_title": "Broker",
            "lifecycle_stage": "prospect",
        },
        headers=cookie(world) | HTMX,
    )
    assert saved.status_code == 204
    merge = await client.get(
        "/contacts/merge", params={"target": str(target.id)}, headers=cookie(world)
    )
    assert str(source.id) in merge.text
    compare = await client.get(
        "/contacts/merge",
        params={"target": str(target.id), "source": str(source.id)},
        headers=cookie(world),
    )
    assert 'data-testid="merge-submit"' in compare.text
    merged = await client.post(
        "/contacts/merge",
        data={"source_id": str(source.id), "target_id": str(target.id), "pick.job_title": "target"},
        headers=cookie(world) | HTMX,
    )
    assert merged.status_code == 204 and merged.headers["HX-Redirect"] == f"/contacts/{target.id}"
    kept = await client.get(f"/contacts/{target.id}", headers=cookie(world))
    assert "karim@example.test" in kept.text


async def test_import_wizard(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/contacts/imports/new", headers=cookie(world))
    assert page.status_code == 200
    data = "الاسم الأول,last_name,phone\nهدى,سالم,+201002223311\n"
    files = {"file": ("ar.csv", data.encode(), "text/csv")}
    mapping = await client.post("/contacts/imports", files=files, headers=cookie(world) | HTMX)
    assert mapping.status_code == 200, mapping.text
    import_id = mapping.text.split("/contacts/imports/")[1].split("/")[0]
    preview = await client.post(
        f"/contacts/imports/{import_id}/mapping",
        data={"map.0": "first_name", "map.1": "last_name", "map.2": "phone"},
        headers=cookie(world) | HTMX,
    )
    assert 'data-testid="import-preview"' in preview.text, preview.text
    done = await client.post(f"/contacts/imports/{import_id}/commit", headers=cookie(world) | HTMX)
    assert 'data-testid="import-done"' in done.text
    bad = {"file": ("bad.csv", b"a|b\n1|2\n", "text/csv")}
    refused = await client.post("/contacts/imports", files=bad, headers=cookie(world) | HTMX)
    assert refused.status_code == 422 and "import-file-error" in refused.text


async def test_company_screens(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    company = await make_company(session, world.a, name="بالم هيلز", domain="palmhills.example")
    await make_contact(session, world.a, first_name="Mona", company_id=company.id)
    listed = await client.get("/companies", params={"q": "بالم"}, headers=cookie(world))
    assert "بالم هيلز" in listed.text
    profile = await client.get(f"/companies/{company.id}", headers=cookie(world))
    assert "Mona" in profile.text
    made = await client.post(
        "/companies",
        data={"name": "Emaar Misr", "domain": "emaar.example"},
        headers=cookie(world) | HTMX,
    )
    assert made.status_code == 204
    refused = await client.post(
        "/companies", data={"name": "X", "domain": "nope"}, headers=cookie(world) | HTMX
    )
    assert refused.status_code == 422


async def test_pages_refuse_other_tenants_and_missing_rights(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    theirs = await make_contact(session, world.b)
    their_company = await make_company(session, world.b)
    for path in (
        f"/contacts/{theirs.id}",
        f"/contacts/{theirs.id}/edit",
        f"/companies/{their_company.id}",
    ):
        assert (await client.get(path, headers=cookie(world))).status_code == 404, path
    for path in ("/contacts", "/companies", "/contacts/new", "/contacts/imports/new"):
        assert (await client.get(path, headers=cookie(world, "member"))).status_code == 403, path
    assert (await client.get("/contacts")).status_code in (302, 303, 401)


async def test_channels_card_adds_consents_and_verifies(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    contact = await make_contact(session, world.a, first_name="Card")
    base = f"/contacts/{contact.id}/channels"
    added = await client.post(base, data={"type": "phone", "value": "+20 100 444 5566"},
                              headers=cookie(world) | HTMX)  # fmt: skip
    assert added.status_code == 200 and "+201004445566" in added.text
    refused = await client.post(
        base, data={"type": "phone", "value": "+20 1"}, headers=cookie(world) | HTMX
    )
    assert refused.status_code == 422 and "channel-value-error" in refused.text
    view = await client.get(f"/v1/contacts/{contact.id}", headers=world.headers(world.a))
    channel_id = view.json()["channels"][0]["id"]
    opted = await client.post(f"{base}/{channel_id}/opt-in", headers=cookie(world) | HTMX)
    assert opted.status_code == 200 and "Opted in" in opted.text
    started = await client.post(f"{base}/{channel_id}/verify/start", headers=cookie(world) | HTMX)
    assert 'id="verify-code"' in started.text
    wrong = await client.post(
        f"{base}/{channel_id}/verify/confirm", data={"code": "x"}, headers=cookie(world) | HTMX
    )
    assert wrong.status_code == 422
    code = await sent_code(session, world, "+201004445566")
    done = await client.post(
        f"{base}/{channel_id}/verify/confirm", data={"code": code}, headers=cookie(world) | HTMX
    )
    assert done.status_code == 200 and "Verified" in done.text


async def test_save_filters_as_a_segment(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.a, first_name="Segmented", lifecycle=Lifecycle.CUSTOMER)
    page = await client.get("/contacts", params={"lifecycle": "customer"}, headers=cookie(world))
    assert 'hx-post="/contacts/segments"' in page.text
    saved = await client.post("/contacts/segments", data={"name": "My customers", "lifecycle": "customer"},
                              headers=cookie(world) | HTMX)  # fmt: skip
    assert saved.status_code == 204
    listed = await client.get(saved.headers["HX-Redirect"], headers=cookie(world))
    assert "Segmented" in listed.text and "My customers" in listed.text
    empty = await client.post(
        "/contacts/segments", data={"name": "Nothing"}, headers=cookie(world) | HTMX
    )
    assert empty.status_code == 422 and "segment-error" in empty.text


async def test_verified_chip_filters_and_keeps_other_chips(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_contact(session, world.a, first_name="Unverified", lifecycle=Lifecycle.CUSTOMER,
                       phone="+201003330001")  # fmt: skip
    verified = await make_contact(session, world.a, first_name="Checked", lifecycle=Lifecycle.CUSTOMER,
                                  phone="+201003330002")  # fmt: skip
    await session.execute(
        text(
            "UPDATE contact_channels SET verified_at = now() WHERE tenant_id = :t AND contact_id = :c"
        ),
        {"t": world.a.id, "c": verified.id},
    )
    page = await client.get(
        "/contacts", params={"lifecycle": "customer", "verified": "true"}, headers=cookie(world)
    )
    assert "Checked" in page.text and "Unverified" not in page.text
    assert "lifecycle=customer" in page.text  # the chips keep each other
    api = await client.get("/v1/contacts", params={"verified": "false", "lifecycle": "customer"},
                           headers=world.headers(world.a))  # fmt: skip
    names = {c["first_name"] for c in api.json()["items"]}
    assert "Unverified" in names and "Checked" not in names


async def test_forms_carry_custom_fields(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await make_field(session, world.a, code="budget", type=FieldType.NUMBER)
    await make_field(
        session, world.a, code="areas", type=FieldType.MULTISELECT, options=["zayed", "marina"]
    )
    await make_field(session, world.a, code="vip", type=FieldType.BOOL)
    await make_field(session, world.a, code="size", type=FieldType.TEXT, entity=EntityType.COMPANY)
    form = {"first_name": "Custom", "lifecycle_stage": "lead", "cf.budget": "2500000",
            "cf.areas": ["zayed", "marina"], "cf.vip": "on"}  # fmt: skip
    page = await client.get("/contacts/new", headers=cookie(world))
    assert 'name="cf.budget"' in page.text and 'name="cf.areas"' in page.text
    made = await client.post("/contacts", data=form, headers=cookie(world) | HTMX)
    assert made.status_code == 204, made.text
    contact_id = made.headers["HX-Redirect"].rsplit("/", 1)[1]
    shown = (await client.get(f"/v1/contacts/{contact_id}", headers=world.headers(world.a))).json()
    assert shown["custom_fields"] == {"budget": 2500000, "areas": ["zayed", "marina"], "vip": True}
    bad = await client.post(
        f"/contacts/{contact_id}", data={"first_name": "Custom", "lifecycle_stage": "lead", "cf.budget": "lots"},
        headers=cookie(world) | HTMX,
    )  # fmt: skip
    assert bad.status_code == 422 and "Enter a number." in bad.text
    company = await make_company(session, world.a, name="Editable Co", owner_id=world.a.admin_id)
    edit = await client.get(f"/companies/{company.id}/edit", headers=cookie(world))
    assert 'name="cf.size"' in edit.text
    saved = await client.post(f"/companies/{company.id}", data={"name": "Edited Co", "cf.size": "Large"},
                              headers=cookie(world) | HTMX)  # fmt: skip
    assert saved.status_code == 204
    got = (await client.get(f"/v1/companies/{company.id}", headers=world.headers(world.a))).json()
    assert (got["name"], got["custom_fields"]) == ("Edited Co", {"size": "Large"})
    refused = await client.post(f"/companies/{company.id}", data={"name": "X", "phone": "+1 2"},
                                headers=cookie(world) | HTMX)  # fmt: skip
    assert refused.status_code == 422


async def test_form_input_is_held_to_the_api_schema(
    client: httpx.AsyncClient, world: World
) -> None:
    """Too long, unknown ids, NUL characters: 422 beside the field, never a 500."""
    cases = [
        {"first_name": "x" * 500, "lifecycle_stage": "lead"},
        {"first_name": "A", "lifecycle_stage": "vip"},
        {"first_name": "A", "lifecycle_stage": "lead", "company_id": "not-an-id"},
        {"first_name": "A\x00B", "lifecycle_stage": "lead"},
        {"first_name": "", "lifecycle_stage": "lead"},
    ]
    for form in cases:
        response = await client.post("/contacts", data=form, headers=cookie(world) | HTMX)
        assert response.status_code == 422, form
    long_company = await client.post(
        "/companies", data={"name": "y" * 300}, headers=cookie(world) | HTMX
    )
    assert long_company.status_code == 422
