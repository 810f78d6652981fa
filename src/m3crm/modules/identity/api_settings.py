"""`/v1/me/settings`: the signed-in user's display settings (web and the iOS app)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from m3crm.kernel.auth import DbSession, Subject
from m3crm.kernel.inputs import StorableModel
from m3crm.modules.identity import preferences
from m3crm.modules.identity.preferences import UserSettings

router = APIRouter(tags=["profile"])


class SettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    theme: Literal["light", "dark", "contrast"]
    density: Literal["comfortable", "compact"]
    time_format: Literal["locale", "h12", "h24"]
    timezone: str | None = Field(description="IANA name; null means the workspace default.")
    locale: Literal["en", "ar"]


class SettingsPatch(StorableModel):
    theme: Literal["light", "dark", "contrast"] | None = None
    density: Literal["comfortable", "compact"] | None = None
    time_format: Literal["locale", "h12", "h24"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    locale: Literal["en", "ar"] | None = None


@router.get("/v1/me/settings", response_model=SettingsOut)
async def get_settings(session: DbSession, subject: Subject) -> UserSettings:
    return await preferences.read_settings(session, subject)


@router.patch("/v1/me/settings", response_model=SettingsOut)
async def patch_settings(body: SettingsPatch, session: DbSession, subject: Subject) -> UserSettings:
    """Fields left out (or null) stay as they are, except `timezone`, where null returns
    to the workspace default."""
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name == "timezone"
    }
    return await preferences.update_settings(session, subject, changes)
