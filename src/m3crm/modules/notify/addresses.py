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


def normalize_address(channel: Channel, value: str, *, field: str = "to") -> str:
    if channel is Channel.EMAIL:
        return normalize_email(value, field=field)
    if channel in (Channel.SMS, Channel.WHATSAPP):
        return normalize_e164(value, field=field)
    return value
