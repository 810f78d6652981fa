"""Recipient addresses: e-mail normalised to lower case, phones to E.164."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from m3crm.kernel.errors import ValidationFailed
from m3crm.kernel.i18n import N_
from m3crm.modules.notify.models import Channel


def normalize_email(value: str, *, field: str = "to") -> str:
    """The address with its domain normalised, lower-cased; 422 when it is not one.

    The reserved `.test` domain is accepted (`test_environment`): the demo agency and the
    test suite use it precisely because it can never reach a real mailbox.
    """
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationFailed({field: N_("Enter a valid e-mail address.")}) from None
    return checked.normalized.lower()


def normalize_e164(value: str, *, field: str = "to") -> str:
    """`+<country><number>` of a valid number; 422 otherwise (no default region)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(
            {field: N_("Enter the number in international format, e.g. +201001234567.")}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed({field: N_("This phone number is not valid.")})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_region(e164: str) -> str | None:
    """The ISO 3166 region of an E.164 number ("EG" for +20…), or None for a number no one
    region owns (non-geographic +800 / +882 services) or one that does not parse."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    # "ZZ" is unknown and "001" non-geographic: only a two-letter region is a country.
    return region if region and len(region) == 2 and region.isalpha() and region != "ZZ" else None


def normalize_address(channel: Channel, value: str, *, field: str = "to") -> str:
    if channel is Channel.EMAIL:
        return normalize_email(value, field=field)
    if channel in (Channel.SMS, Channel.WHATSAPP):
        return normalize_e164(value, field=field)
    return value
