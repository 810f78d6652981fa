"""Checking the rows of an import against a column mapping, in bulk.

`check_rows` answers, per row, either a contact ready to insert or its errors by column;
duplicates are errors too (blocking, Section 3 §6): an e-mail or number another contact
holds (`duplicate_of` names it) or that an earlier row of the same file holds. Lookups
(companies by name, channel holders, custom fields) are a handful of queries for the
whole file, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.kernel.ids import TenantId
from m3crm.kernel.text import fold
from m3crm.modules.contacts.channels import normalize
from m3crm.modules.contacts.models import ChannelType, Lifecycle
from m3crm.modules.contacts.repository import PHONE_TYPES, ChannelRepository
from m3crm.modules.contacts.repository_companies import CompanyRepository
from m3crm.modules.customfields.models import CustomFieldDef, EntityType
from m3crm.modules.customfields.service import custom_fields
from m3crm.modules.customfields.values import BadValue, CleanValue, clean, from_text, is_empty

STANDARD_TARGETS = ("first_name", "last_name", "job_title", "lifecycle_stage", "source",
                    "email", "phone", "whatsapp", "company")  # fmt: skip
CHANNEL_TARGETS = {"email": ChannelType.EMAIL, "phone": ChannelType.PHONE,
                   "whatsapp": ChannelType.WHATSAPP}  # fmt: skip
LIMITS = {"first_name": 100, "last_name": 100, "job_title": 200, "source": 50}
CHUNK = 1000


@dataclass(slots=True)
class RowResult:
    """One data row (`line` counts from 2: the header is line 1)."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    channels: list[tuple[ChannelType, str, str]] = field(default_factory=list)
    custom: list[tuple[CustomFieldDef, CleanValue]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    duplicate_of: UUID | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def check_mapping(
    mapping: dict[str, str], columns: Sequence[str], defs: list[CustomFieldDef]
) -> None:
    """422 on `mapping.<column>` for an unknown column or target, a target used twice,
    or no column for `first_name`."""
    targets = set(STANDARD_TARGETS) | {f"cf.{d.code}" for d in defs if d.active}
    errors: dict[str, str] = {}
    used: set[str] = set()
    for column, target in mapping.items():
        if column not in columns:
            errors[f"mapping.{column}"] = N_("There is no such column in the file.")
        elif target not in targets:
            errors[f"mapping.{column}"] = N_("There is no such field.")
        elif target in used:
            errors[f"mapping.{column}"] = N_("Another column already fills this field.")
        used.add(target)
    if "first_name" not in used:
        errors["mapping"] = N_("Choose the column that holds the first name.")
    if errors:
        raise ValidationFailed(errors)


def _header_key(name: str) -> str:
    return " ".join(fold(name.replace("_", " ")).split())


def suggest_mapping(columns: Sequence[str], defs: list[CustomFieldDef]) -> dict[str, str]:
    """Columns whose name, folded and with `_` as a space, equals a target's, or a custom
    field's code or label."""
    by_name = {_header_key(t): t for t in STANDARD_TARGETS}
    for d in defs:
        if d.active:
            by_name |= {_header_key(d.label): f"cf.{d.code}", _header_key(d.code): f"cf.{d.code}"}
    suggested: dict[str, str] = {}
    for column in columns:
        target = by_name.get(_header_key(column))
        if target and target not in suggested.values():
            suggested[column] = target
    return suggested


def _standard(result: RowResult, target: str, raw: str) -> None:
    value = raw.strip()
    if target == "lifecycle_stage":
        if value and value.lower() not in {v.value for v in Lifecycle}:
            result.errors[target] = N_("Use lead, prospect, customer, inactive or lost.")
        elif value:
            result.values[target] = Lifecycle(value.lower())
    elif target in CHANNEL_TARGETS and value:
        kind = CHANNEL_TARGETS[target]
        try:
            result.channels.append((kind, value, normalize(kind, value, field=target)))
        except ValidationFailed as exc:
            result.errors[target] = str(exc.details["fields"][target])
    elif target in LIMITS:
        if len(value) > LIMITS[target]:
            result.errors[target] = N_("This value is too long.")
        result.values[target] = value or None
    elif target == "company" and value:
        result.values["company"] = value


def parse_row(
    line: int, row: list[str], columns: Sequence[str], mapping: dict[str, str],
    defs: dict[str, CustomFieldDef],
) -> RowResult:  # fmt: skip
    result = RowResult(line=line)
    if len(row) != len(columns):
        result.errors["row"] = N_(
            "This row does not have the same number of columns as the header."
        )
        return result
    cells = dict(zip(columns, row, strict=True))
    for column, target in mapping.items():
        raw = cells.get(column, "")
        if target.startswith("cf."):
            defn = defs[target.removeprefix("cf.")]
            if is_empty(raw.strip()):
                if defn.required:
                    result.errors[target] = N_("This field is required.")
                continue
            try:
                result.custom.append((defn, clean(defn, from_text(defn, raw.strip()))))
            except BadValue as exc:
                result.errors[target] = exc.message
        else:
            _standard(result, target, raw)
    if not result.values.get("first_name"):
        result.errors["first_name"] = N_("This field is required.")
    return result


async def check_rows(
    session: AsyncSession,
    tenant_id: TenantId,
    columns: Sequence[str],
    rows: Sequence[list[str]],
    mapping: dict[str, str],
) -> list[RowResult]:
    defs = {
        d.code: d for d in await custom_fields.list_defs(session, tenant_id, EntityType.CONTACT)
    }
    results = [parse_row(i + 2, row, columns, mapping, defs) for i, row in enumerate(rows)]
    await _resolve_companies(session, tenant_id, results)
    await _find_duplicates(session, tenant_id, results)
    await _check_unique_values(session, tenant_id, list(defs.values()), results)
    return results


async def _resolve_companies(
    session: AsyncSession, tenant_id: TenantId, results: list[RowResult]
) -> None:
    names = {fold(r.values["company"]) for r in results if r.values.get("company")}
    found = await CompanyRepository(session, tenant_id).ids_by_folded_name(sorted(names))
    for result in results:
        name = result.values.pop("company", None)
        if name is None:
            continue
        company_id = found.get(fold(name))
        if company_id is None:
            result.errors["company"] = N_("No company has this name; create it first.")
        result.values["company_id"] = company_id


async def _find_duplicates(
    session: AsyncSession, tenant_id: TenantId, results: list[RowResult]
) -> None:
    """Blocking duplicates against the tenant's channels and within the file."""
    repo = ChannelRepository(session, tenant_id)
    holders: dict[tuple[bool, str], UUID] = {}
    for group, types in ((False, (ChannelType.EMAIL,)), (True, PHONE_TYPES)):
        values = sorted(
            {n for r in results for k, _, n in r.channels if (k in PHONE_TYPES) == group}
        )
        for start in range(0, len(values), CHUNK):
            for channel in await repo.holders(types, values[start : start + CHUNK]):
                holders[(group, channel.normalized_value)] = channel.contact_id
    first_line: dict[tuple[bool, str], int] = {}
    for result in results:
        for kind, _, normalized in result.channels:
            key = (kind in PHONE_TYPES, normalized)
            target = next(t for t, k in CHANNEL_TARGETS.items() if k is kind)
            if key in holders:
                result.errors[target] = N_("Another contact already has this value.")
                result.duplicate_of = holders[key]
            elif key in first_line and first_line[key] != result.line:
                result.errors[target] = N_("An earlier row of the file has this value.")
            else:
                first_line.setdefault(key, result.line)


async def _check_unique_values(
    session: AsyncSession, tenant_id: TenantId, defs: list[CustomFieldDef], results: list[RowResult]
) -> None:
    """Values of unique custom fields held by a record, or by an earlier row of the file."""
    for defn in (d for d in defs if d.is_unique):
        texts = sorted({v.text for r in results for d, v in r.custom if d.id == defn.id and v.text})
        held: dict[str, UUID] = {}
        for start in range(0, len(texts), CHUNK):
            held |= await custom_fields.unique_holders(
                session, tenant_id, defn, texts[start : start + CHUNK]
            )
        first_line: dict[str, int] = {}
        for result in results:
            for d, value in result.custom:
                if d.id != defn.id or not value.text:
                    continue
                if value.text in held:
                    result.errors[f"cf.{defn.code}"] = N_("Another record already has this value.")
                elif first_line.setdefault(value.text, result.line) != result.line:
                    result.errors[f"cf.{defn.code}"] = N_(
                        "An earlier row of the file has this value."
                    )
