"""Bodies and answers of the contacts API (spec Section 3 §4).

Bodies never carry `tenant_id`; ids they carry (company, owner) are resolved inside the
caller's tenant by the service (422 on the field when not found there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from m3crm.kernel.inputs import StorableModel
from m3crm.modules.contacts.models import (
    ChannelType,
    CompanyStatus,
    Lifecycle,
    LinkRelation,
    SegmentEntity,
)

Line = r"^[^\x00-\x1f]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=Line)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=Line)]
CustomValues = Annotated[
    dict[Annotated[str, StringConstraints(max_length=64)], Any], Field(max_length=200)
]
Locale = Literal["en", "ar"]


class ChannelIn(StorableModel):
    type: ChannelType
    value: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=Line)
    ]
    is_primary: bool = False
    locale: Locale | None = None


class ChannelPatch(StorableModel):
    """Changing `value` clears the verification (a new address is not verified)."""

    value: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=Line),
        ]
        | None
    ) = None
    is_primary: bool | None = None
    locale: Locale | None = None


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: ChannelType
    value: str
    normalized_value: str
    is_primary: bool
    verified_at: datetime | None
    opt_in: bool
    opt_in_source: str | None
    opt_in_at: datetime | None
    opt_out_at: datetime | None
    locale: str | None


class ContactCreate(StorableModel):
    first_name: Name
    last_name: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=100, pattern=Line)
    ] = ""
    job_title: ShortText | None = None
    company_id: UUID | None = None
    owner_user_id: UUID | None = Field(default=None, description="Defaults to the caller.")
    lifecycle_stage: Lifecycle = Lifecycle.LEAD
    is_private: bool = Field(
        default=False, description="Needs the plan feature `contacts.privateRecords`."
    )
    source: Annotated[str, StringConstraints(max_length=50, pattern=Line)] | None = None
    channels: Annotated[list[ChannelIn], Field(max_length=20)] = []
    custom_fields: CustomValues = {}


class ContactPatch(StorableModel):
    """Every field optional; `null` clears the optional ones (`company_id`, `owner_user_id`,
    `job_title`, `source`); custom fields given are set, `null` clears one."""

    first_name: Name | None = None
    last_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=Line)]
        | None
    ) = None
    job_title: ShortText | None = None
    company_id: UUID | None = None
    owner_user_id: UUID | None = None
    lifecycle_stage: Lifecycle | None = None
    is_private: bool | None = None
    source: Annotated[str, StringConstraints(max_length=50, pattern=Line)] | None = None
    custom_fields: CustomValues | None = None


class ContactOut(BaseModel):
    id: UUID
    first_name: str
    last_name: str
    full_name: str
    job_title: str | None
    company_id: UUID | None
    owner_user_id: UUID | None
    lifecycle_stage: Lifecycle
    is_private: bool
    source: str | None
    created_at: datetime
    updated_at: datetime
    channels: list[ChannelOut]
    custom_fields: dict[str, Any]


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class CodeIn(StorableModel):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class ConsentIn(StorableModel):
    channel_id: UUID
    source: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=Line)
    ]
    text: Annotated[str, StringConstraints(max_length=2000)] | None = None


class LinkIn(StorableModel):
    company_id: UUID
    relation: LinkRelation = LinkRelation.EMPLOYEE


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    company_id: UUID
    relation: LinkRelation
    is_primary: bool


class FollowerIn(StorableModel):
    user_id: UUID


class FollowerOut(BaseModel):
    """A follower as a person: the user's id, name and e-mail."""

    model_config = ConfigDict(from_attributes=True)

    user_id: UUID = Field(validation_alias="id")
    full_name: str
    email: str


class CompanyCreate(StorableModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=Line)
    ]
    domain: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=253, pattern=Line)]
        | None
    ) = None
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=Line)] | None
    ) = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    city: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=Line)]
        | None
    ) = None
    address: Annotated[str, StringConstraints(max_length=1000)] | None = None
    status: CompanyStatus = CompanyStatus.ACTIVE
    owner_user_id: UUID | None = Field(default=None, description="Defaults to the caller.")
    custom_fields: CustomValues = {}


class CompanyPatch(StorableModel):
    name: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=Line),
        ]
        | None
    ) = None
    domain: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=253, pattern=Line)]
        | None
    ) = None
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=Line)] | None
    ) = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    city: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=Line)]
        | None
    ) = None
    address: Annotated[str, StringConstraints(max_length=1000)] | None = None
    status: CompanyStatus | None = None
    owner_user_id: UUID | None = None
    custom_fields: CustomValues | None = None


class CompanyOut(BaseModel):
    id: UUID
    name: str
    domain: str | None
    phone_e164: str | None
    country: str | None
    city: str | None
    address: str | None
    status: CompanyStatus
    owner_user_id: UUID | None
    created_at: datetime
    updated_at: datetime
    custom_fields: dict[str, Any]


class CompanyPage(BaseModel):
    items: list[CompanyOut]
    next_cursor: str | None


class DedupeCheckIn(StorableModel):
    first_name: Annotated[str, StringConstraints(max_length=100, pattern=Line)] = ""
    last_name: Annotated[str, StringConstraints(max_length=100, pattern=Line)] = ""
    emails: Annotated[
        list[Annotated[str, StringConstraints(max_length=320)]], Field(max_length=10)
    ] = []
    phones: Annotated[
        list[Annotated[str, StringConstraints(max_length=40)]], Field(max_length=10)
    ] = []
    company_id: UUID | None = None
    exclude_id: UUID | None = Field(
        default=None, description="A contact to leave out (the one being edited)."
    )


class DuplicateOut(BaseModel):
    contact_id: UUID
    full_name: str
    reason: str
    score: float
    blocking: bool


class DuplicatePairOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    contact_a_id: UUID
    contact_b_id: UUID
    reason: str
    score: float
    created_at: datetime


class DuplicatePairPage(BaseModel):
    items: list[DuplicatePairOut]
    next_cursor: str | None


class MergeIn(StorableModel):
    source_id: UUID
    target_id: UUID
    take_from_source: Annotated[
        list[
            Literal[
                "first_name",
                "last_name",
                "job_title",
                "company_id",
                "owner_user_id",
                "lifecycle_stage",
            ]
        ],
        Field(max_length=6),
    ] = Field(default=[], description="Fields whose value the source gives the kept record.")


class SegmentIn(StorableModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=Line)
    ]
    entity: SegmentEntity = SegmentEntity.CONTACT
    definition: dict[str, Any]


class SegmentPatch(StorableModel):
    name: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=Line),
        ]
        | None
    ) = None
    definition: dict[str, Any] | None = None


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    entity_type: SegmentEntity
    definition: dict[str, Any]
    created_by_user_id: UUID | None
    created_at: datetime
    updated_at: datetime


class SegmentCount(BaseModel):
    count: int


class FilterCheckIn(StorableModel):
    entity: SegmentEntity = SegmentEntity.CONTACT
    definition: dict[str, Any]


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    filename: str
    columns: list[str]
    row_count: int
    mapping: dict[str, str]
    summary: dict[str, Any] | None
    run_id: UUID | None
    created_at: datetime


class MappingIn(StorableModel):
    mapping: Annotated[
        dict[
            Annotated[str, StringConstraints(max_length=200)],
            Annotated[str, StringConstraints(max_length=70)],
        ],
        Field(max_length=100),
    ]


class CommitIn(StorableModel):
    skip_duplicates: bool = Field(
        default=False, description="Leave out rows whose only problem is an existing contact."
    )
