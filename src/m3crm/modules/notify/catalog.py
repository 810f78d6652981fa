"""The product's template families, seeded as global approved templates (en and ar).

`sync_template_catalog` runs with `m3crm migrate` (as the owner): it inserts missing
global templates and updates the text of changed ones, leaving tenant overrides alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg

from m3crm.kernel.ids import new_id
from m3crm.modules.notify.models import Channel


def code_for(family: str, channel: Channel) -> str:
    """`otp.verify_phone` on sms → `otp.sms.verify_phone` (spec §2.6 naming)."""
    head, _, rest = family.partition(".")
    return f"{head}.{channel.value}.{rest}" if rest else f"{head}.{channel.value}"


APP_NAME: Final = "M3CoreCRM"
"""The product's name as messages say it (`app_name` of the code families)."""


def otp_payload(code: str, *, expires_min: int, tenant_name: str) -> dict[str, Any]:
    """The payload of a code family (`otp.verify_phone`, `contact.verify_email`): spec
    Section 1 §8 `{code, expires_min, app_name, tenant_name}`, every one required."""
    return {
        "code": code,
        "expires_min": expires_min,
        "app_name": APP_NAME,
        "tenant_name": tenant_name,
    }


@dataclass(frozen=True, slots=True)
class Seed:
    family: str
    channel: Channel
    locale: str
    name: str
    body: str
    subject: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return code_for(self.family, self.channel)


def _vars(*required: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {name: {"required": True} for name in required}
    spec.update({name: {"required": False} for name in optional})
    return spec


# Every code family carries the spec's OTP payload (Section 1 §8): build it with `otp_payload`.
_OTP = _vars("code", "expires_min", "app_name", "tenant_name")
_VERIFY = _vars("verify_url", optional=("name",))
_RESET = _vars("reset_url", optional=("name", "minutes"))
_INVITE = _vars("accept_url", "workspace", optional=("inviter",))
_APPROVAL = _vars("requester", "subject", "link")
_TASK = _vars("title", "due", optional=("link",))
_RUN = _vars("type", "status", optional=("reason",))
_ACCESS = _vars("requester", "what", "kind")
_SEATS = _vars("used", "allowed")
_FOLLOWED = _vars("contact", "change", optional=("actor",))
_INVITE_NOTICE = _vars("email", "actor", "workspace", optional=("roles",))
_ACCOUNT = _vars("workspace", optional=("name",))
# A run's status in Arabic words (the payload carries the English state code).
_AR_STATUS = (
    "{% if status == 'succeeded' %}نجح{% elif status == 'failed' %}فشل"
    "{% elif status == 'denied' %}رُفض{% else %}{{ status }}{% endif %}"
)

SEEDS: Final[tuple[Seed, ...]] = (
    # otp.verify_phone — phone verification and sign-in codes (Section 1 §8)
    Seed("otp.verify_phone", Channel.SMS, "en", "Phone code (SMS)",
         "Your {{ app_name }} code for {{ tenant_name }} is {{ code }}."
         " It expires in {{ expires_min }} minutes.",
         variables=_OTP),
    Seed("otp.verify_phone", Channel.SMS, "ar", "رمز الهاتف (رسالة)",
         "رمز التحقق في {{ app_name }} لمساحة {{ tenant_name }} هو {{ code }}."
         " تنتهي صلاحيته خلال {{ expires_min }} دقائق.",
         variables=_OTP),
    Seed("otp.verify_phone", Channel.WHATSAPP, "en", "Phone code (WhatsApp)",
         "Your {{ app_name }} code for {{ tenant_name }} is {{ code }}."
         " It expires in {{ expires_min }} minutes.",
         variables=_OTP),
    Seed("otp.verify_phone", Channel.WHATSAPP, "ar", "رمز الهاتف (واتساب)",
         "رمز التحقق في {{ app_name }} لمساحة {{ tenant_name }} هو {{ code }}."
         " تنتهي صلاحيته خلال {{ expires_min }} دقائق.",
         variables=_OTP),
    Seed("otp.verify_phone", Channel.EMAIL, "en", "Phone code (e-mail)",
         "Your {{ tenant_name }} verification code is {{ code }}.\nIt expires in"
         " {{ expires_min }} minutes. If you did not ask for it, ignore this message.",
         subject="Your {{ app_name }} verification code", variables=_OTP),
    Seed("otp.verify_phone", Channel.EMAIL, "ar", "رمز الهاتف (بريد)",
         "رمز التحقق الخاص بك في {{ tenant_name }} هو {{ code }}.\nتنتهي صلاحيته خلال"
         " {{ expires_min }} دقائق. إذا لم تطلبه فتجاهل هذه الرسالة.",
         subject="رمز التحقق الخاص بك في {{ app_name }}", variables=_OTP),
    Seed("otp.verify_phone", Channel.INBOX, "en", "Phone code (inbox)",
         "A verification code was sent to your phone.",
         subject="Verification code sent", variables=_OTP),
    Seed("otp.verify_phone", Channel.INBOX, "ar", "رمز الهاتف (الوارد)",
         "تم إرسال رمز تحقق إلى هاتفك.", subject="تم إرسال رمز التحقق", variables=_OTP),
    # contact.verify_email — a code that proves a contact's e-mail address (Section 3 §4)
    Seed("contact.verify_email", Channel.EMAIL, "en", "Contact e-mail code",
         "Your verification code is {{ code }}.\nGive it to the person at {{ tenant_name }}"
         " who asked you for it; it expires in {{ expires_min }} minutes. If you did not"
         " expect it, ignore this message.",
         subject="Your {{ app_name }} verification code", variables=_OTP),
    Seed("contact.verify_email", Channel.EMAIL, "ar", "رمز بريد جهة الاتصال",
         "رمز التحقق الخاص بك هو {{ code }}.\nأعطه لمن طلبه منك في {{ tenant_name }}؛"
         " تنتهي صلاحيته خلال {{ expires_min }} دقائق. إذا لم تكن تتوقعه فتجاهل هذه الرسالة.",
         subject="رمز التحقق الخاص بك في {{ app_name }}", variables=_OTP),
    # auth.verify_email — e-mail verification after sign-up (Section 1 §3)
    Seed("auth.verify_email", Channel.EMAIL, "en", "Verify e-mail",
         "Hello {{ name or '' }},\nConfirm your e-mail address to finish setting up"
         " M3CoreCRM: {{ verify_url }}",
         subject="Confirm your e-mail address", variables=_VERIFY),
    Seed("auth.verify_email", Channel.EMAIL, "ar", "تأكيد البريد",
         "مرحبًا {{ name or '' }}،\nأكّد عنوان بريدك الإلكتروني لإكمال إعداد M3CoreCRM:"
         " {{ verify_url }}",
         subject="أكّد عنوان بريدك الإلكتروني", variables=_VERIFY),
    # auth.password_reset
    Seed("auth.password_reset", Channel.EMAIL, "en", "Password reset",
         "Hello {{ name or '' }},\nReset your password within {{ minutes or 30 }} minutes:"
         " {{ reset_url }}\nIf you did not ask for this, ignore this message.",
         subject="Reset your password", variables=_RESET),
    Seed("auth.password_reset", Channel.EMAIL, "ar", "إعادة تعيين كلمة المرور",
         "مرحبًا {{ name or '' }}،\nأعد تعيين كلمة المرور خلال {{ minutes or 30 }} دقيقة:"
         " {{ reset_url }}\nإذا لم تطلب ذلك فتجاهل هذه الرسالة.",
         subject="إعادة تعيين كلمة المرور", variables=_RESET),
    # auth.invitation
    Seed("auth.invitation", Channel.EMAIL, "en", "Invitation",
         "{{ inviter or 'A colleague' }} invited you to {{ workspace }} on M3CoreCRM."
         "\nAccept the invitation: {{ accept_url }}",
         subject="You are invited to {{ workspace }}", variables=_INVITE),
    Seed("auth.invitation", Channel.EMAIL, "ar", "دعوة",
         "دعاك {{ inviter or 'أحد الزملاء' }} إلى {{ workspace }} على M3CoreCRM."
         "\nاقبل الدعوة: {{ accept_url }}",
         subject="دعوة للانضمام إلى {{ workspace }}", variables=_INVITE),
    # approval.request
    Seed("approval.request", Channel.EMAIL, "en", "Approval request",
         "{{ requester }} asks for your approval: {{ subject }}.\nReview it: {{ link }}",
         subject="Approval needed: {{ subject }}", variables=_APPROVAL),
    Seed("approval.request", Channel.EMAIL, "ar", "طلب موافقة",
         "يطلب {{ requester }} موافقتك على: {{ subject }}.\nراجِع الطلب: {{ link }}",
         subject="مطلوب موافقتك: {{ subject }}", variables=_APPROVAL),
    Seed("approval.request", Channel.INBOX, "en", "Approval request (inbox)",
         "{{ requester }} asks for your approval: {{ subject }}.",
         subject="Approval needed", variables=_APPROVAL),
    Seed("approval.request", Channel.INBOX, "ar", "طلب موافقة (الوارد)",
         "يطلب {{ requester }} موافقتك على: {{ subject }}.",
         subject="مطلوب موافقتك", variables=_APPROVAL),
    # task.reminder
    Seed("task.reminder", Channel.EMAIL, "en", "Task reminder",
         "Reminder: {{ title }} is due {{ due }}.{% if link %}\nOpen it: {{ link }}{% endif %}",
         subject="Reminder: {{ title }}", variables=_TASK),
    Seed("task.reminder", Channel.EMAIL, "ar", "تذكير بمهمة",
         "تذكير: موعد {{ title }} هو {{ due }}.{% if link %}\nافتحها: {{ link }}{% endif %}",
         subject="تذكير: {{ title }}", variables=_TASK),
    Seed("task.reminder", Channel.SMS, "en", "Task reminder (SMS)",
         "Reminder: {{ title }} is due {{ due }}.", variables=_TASK),
    Seed("task.reminder", Channel.SMS, "ar", "تذكير بمهمة (رسالة)",
         "تذكير: موعد {{ title }} هو {{ due }}.", variables=_TASK),
    Seed("task.reminder", Channel.INBOX, "en", "Task reminder (inbox)",
         "{{ title }} is due {{ due }}.", subject="Task reminder", variables=_TASK),
    Seed("task.reminder", Channel.INBOX, "ar", "تذكير بمهمة (الوارد)",
         "موعد {{ title }} هو {{ due }}.", subject="تذكير بمهمة", variables=_TASK),
    # ops.run_finished — the initiator of an OperationRun learns how it ended (ARCHITECTURE §2.8)
    Seed("ops.run_finished", Channel.INBOX, "en", "Run finished (inbox)",
         "{{ type }} ended: {{ status }}.{% if reason %} {{ reason }}{% endif %}",
         subject="Background job {{ status }}", variables=_RUN),
    Seed("ops.run_finished", Channel.INBOX, "ar", "انتهاء عمل في الخلفية (الوارد)",
         "انتهى {{ type }}: " + _AR_STATUS + ".{% if reason %} {{ reason }}{% endif %}",
         subject="عمل في الخلفية: " + _AR_STATUS, variables=_RUN),
    # access.requested — a refused page's "Request access" / "Ask for an upgrade" button
    Seed("access.requested", Channel.INBOX, "en", "Access requested (inbox)",
         "{{ requester }} asks for {% if kind == 'upgrade' %}a plan that includes{% else %}"
         "access to{% endif %} {{ what }}.",
         subject="{% if kind == 'upgrade' %}Upgrade requested{% else %}Access requested{% endif %}",
         variables=_ACCESS),
    Seed("access.requested", Channel.INBOX, "ar", "طلب وصول (الوارد)",
         "يطلب {{ requester }} {% if kind == 'upgrade' %}باقة تتضمن{% else %}صلاحية الوصول إلى"
         "{% endif %} {{ what }}.",
         subject="{% if kind == 'upgrade' %}طلب ترقية الباقة{% else %}طلب صلاحية وصول{% endif %}",
         variables=_ACCESS),
    # tenant.seat_limit_reached — an invite or reinstatement refused for lack of seats
    Seed("tenant.seat_limit_reached", Channel.INBOX, "en", "Seat limit reached (inbox)",
         "A user could not be added: all {{ allowed }} seats of your plan are in use.",
         subject="Seat limit reached", variables=_SEATS),
    Seed("tenant.seat_limit_reached", Channel.INBOX, "ar", "بلوغ حد المقاعد (الوارد)",
         "تعذّرت إضافة مستخدم: كل مقاعد باقتك ({{ allowed }}) مستخدمة.",
         subject="بلوغ حد المقاعد", variables=_SEATS),
    Seed("tenant.seat_limit_reached", Channel.EMAIL, "en", "Seat limit reached",
         "A user could not be added: all {{ allowed }} seats of your plan are in use"
         " ({{ used }} taken).\nFree a seat or upgrade the plan, then try again.",
         subject="Seat limit reached", variables=_SEATS),
    Seed("tenant.seat_limit_reached", Channel.EMAIL, "ar", "بلوغ حد المقاعد",
         "تعذّرت إضافة مستخدم: كل مقاعد باقتك ({{ allowed }}) مستخدمة ({{ used }} مشغولة)."
         "\nحرّر مقعدًا أو رقِّ الباقة ثم أعد المحاولة.",
         subject="بلوغ حد المقاعد", variables=_SEATS),
    # contact.followed_changed — a follower of a contact learns it changed (DECISIONS §3.2)
    Seed("contact.followed_changed", Channel.INBOX, "en", "Followed contact changed (inbox)",
         "{{ actor or 'Someone' }} {% if change == 'owner' %}changed the owner of"
         "{% elif change == 'merged' %}merged a duplicate into{% else %}updated{% endif %}"
         " {{ contact }}.",
         subject="{{ contact }} changed", variables=_FOLLOWED),
    Seed("contact.followed_changed", Channel.INBOX, "ar", "تغيّر جهة اتصال تتابعها (الوارد)",
         "{% if change == 'owner' %}غيّر {{ actor or 'أحد الزملاء' }} مالك {{ contact }}"
         "{% elif change == 'merged' %}دمج {{ actor or 'أحد الزملاء' }} جهة اتصال مكررة في"
         " {{ contact }}{% else %}حدّث {{ actor or 'أحد الزملاء' }} {{ contact }}{% endif %}.",
         subject="تغيّرت جهة الاتصال {{ contact }}", variables=_FOLLOWED),
    # user.invitation_sent / _resent / _accepted — the other admins hear of invitations
    # (Section 12 §7; `actor` is who invited, resent or accepted)
    Seed("user.invitation_sent", Channel.EMAIL, "en", "Invitation sent (admins)",
         "{{ actor }} invited {{ email }} to {{ workspace }}"
         "{% if roles %} with the roles {{ roles }}{% endif %}."
         "\nYou can follow, resend or revoke the invitation on the Users page.",
         subject="{{ actor }} invited {{ email }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_sent", Channel.EMAIL, "ar", "إرسال دعوة (المسؤولون)",
         "دعا {{ actor }} {{ email }} للانضمام إلى {{ workspace }}"
         "{% if roles %} بالأدوار: {{ roles }}{% endif %}."
         "\nيمكنك متابعة الدعوة أو إعادة إرسالها أو إلغاؤها من صفحة المستخدمين.",
         subject="دعوة جديدة إلى {{ email }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_sent", Channel.INBOX, "en", "Invitation sent (inbox)",
         "{{ actor }} invited {{ email }}{% if roles %} with the roles {{ roles }}{% endif %}.",
         subject="Invitation sent", variables=_INVITE_NOTICE),
    Seed("user.invitation_sent", Channel.INBOX, "ar", "إرسال دعوة (الوارد)",
         "دعا {{ actor }} {{ email }}{% if roles %} بالأدوار: {{ roles }}{% endif %}.",
         subject="تم إرسال دعوة", variables=_INVITE_NOTICE),
    Seed("user.invitation_resent", Channel.EMAIL, "en", "Invitation resent (admins)",
         "{{ actor }} sent the invitation to {{ workspace }} again to {{ email }}, with a new"
         " link; the previous link no longer works.",
         subject="Invitation resent to {{ email }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_resent", Channel.EMAIL, "ar", "إعادة إرسال دعوة (المسؤولون)",
         "أعاد {{ actor }} إرسال دعوة الانضمام إلى {{ workspace }} إلى {{ email }} برابط"
         " جديد؛ لم يعد الرابط السابق صالحًا.",
         subject="أُعيد إرسال الدعوة إلى {{ email }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_resent", Channel.INBOX, "en", "Invitation resent (inbox)",
         "{{ actor }} resent the invitation to {{ email }}.",
         subject="Invitation resent", variables=_INVITE_NOTICE),
    Seed("user.invitation_resent", Channel.INBOX, "ar", "إعادة إرسال دعوة (الوارد)",
         "أعاد {{ actor }} إرسال الدعوة إلى {{ email }}.",
         subject="أُعيد إرسال دعوة", variables=_INVITE_NOTICE),
    Seed("user.invitation_accepted", Channel.EMAIL, "en", "Invitation accepted (admins)",
         "{{ actor }} ({{ email }}) accepted the invitation and joined {{ workspace }}"
         "{% if roles %} with the roles {{ roles }}{% endif %}.",
         subject="{{ actor }} joined {{ workspace }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_accepted", Channel.EMAIL, "ar", "قبول دعوة (المسؤولون)",
         "قبل {{ actor }} ({{ email }}) الدعوة وانضم إلى {{ workspace }}"
         "{% if roles %} بالأدوار: {{ roles }}{% endif %}.",
         subject="انضم {{ actor }} إلى {{ workspace }}", variables=_INVITE_NOTICE),
    Seed("user.invitation_accepted", Channel.INBOX, "en", "Invitation accepted (inbox)",
         "{{ actor }} ({{ email }}) accepted the invitation and joined.",
         subject="Invitation accepted", variables=_INVITE_NOTICE),
    Seed("user.invitation_accepted", Channel.INBOX, "ar", "قبول دعوة (الوارد)",
         "قبل {{ actor }} ({{ email }}) الدعوة وانضم.",
         subject="تم قبول دعوة", variables=_INVITE_NOTICE),
    # user.suspended / deactivated / reinstated — the affected user is told (Section 12 §7)
    Seed("user.suspended", Channel.EMAIL, "en", "Account suspended",
         "Hello {{ name or '' }},\nAn administrator of {{ workspace }} suspended your"
         " account: you were signed out and cannot sign in until it is reinstated."
         "\nIf you think this is a mistake, contact your administrator.",
         subject="Your account in {{ workspace }} is suspended", variables=_ACCOUNT),
    Seed("user.suspended", Channel.EMAIL, "ar", "إيقاف الحساب",
         "مرحبًا {{ name or '' }}،\nأوقف أحد مسؤولي {{ workspace }} حسابك مؤقتًا: تم تسجيل"
         " خروجك ولا يمكنك تسجيل الدخول حتى يُعاد تفعيله."
         "\nإذا كنت تعتقد أن هذا خطأ فتواصل مع المسؤول.",
         subject="تم إيقاف حسابك في {{ workspace }}", variables=_ACCOUNT),
    Seed("user.suspended", Channel.INBOX, "en", "Account suspended (inbox)",
         "An administrator suspended your account in {{ workspace }}.",
         subject="Your account was suspended", variables=_ACCOUNT),
    Seed("user.suspended", Channel.INBOX, "ar", "إيقاف الحساب (الوارد)",
         "أوقف أحد المسؤولين حسابك في {{ workspace }} مؤقتًا.",
         subject="تم إيقاف حسابك", variables=_ACCOUNT),
    Seed("user.deactivated", Channel.EMAIL, "en", "Account deactivated",
         "Hello {{ name or '' }},\nAn administrator of {{ workspace }} deactivated your"
         " account: you can no longer sign in."
         "\nIf you think this is a mistake, contact your administrator.",
         subject="Your account in {{ workspace }} is deactivated", variables=_ACCOUNT),
    Seed("user.deactivated", Channel.EMAIL, "ar", "تعطيل الحساب",
         "مرحبًا {{ name or '' }}،\nعطّل أحد مسؤولي {{ workspace }} حسابك: لم يعد بإمكانك"
         " تسجيل الدخول.\nإذا كنت تعتقد أن هذا خطأ فتواصل مع المسؤول.",
         subject="تم تعطيل حسابك في {{ workspace }}", variables=_ACCOUNT),
    Seed("user.deactivated", Channel.INBOX, "en", "Account deactivated (inbox)",
         "An administrator deactivated your account in {{ workspace }}.",
         subject="Your account was deactivated", variables=_ACCOUNT),
    Seed("user.deactivated", Channel.INBOX, "ar", "تعطيل الحساب (الوارد)",
         "عطّل أحد المسؤولين حسابك في {{ workspace }}.",
         subject="تم تعطيل حسابك", variables=_ACCOUNT),
    Seed("user.reinstated", Channel.EMAIL, "en", "Account reinstated",
         "Hello {{ name or '' }},\nAn administrator of {{ workspace }} reinstated your"
         " account: you can sign in again.",
         subject="Your account in {{ workspace }} is active again", variables=_ACCOUNT),
    Seed("user.reinstated", Channel.EMAIL, "ar", "إعادة تفعيل الحساب",
         "مرحبًا {{ name or '' }}،\nأعاد أحد مسؤولي {{ workspace }} تفعيل حسابك: يمكنك"
         " تسجيل الدخول مجددًا.",
         subject="أُعيد تفعيل حسابك في {{ workspace }}", variables=_ACCOUNT),
    Seed("user.reinstated", Channel.INBOX, "en", "Account reinstated (inbox)",
         "An administrator reinstated your account in {{ workspace }}.",
         subject="Your account is active again", variables=_ACCOUNT),
    Seed("user.reinstated", Channel.INBOX, "ar", "إعادة تفعيل الحساب (الوارد)",
         "أعاد أحد المسؤولين تفعيل حسابك في {{ workspace }}.",
         subject="أُعيد تفعيل حسابك", variables=_ACCOUNT),
    # auth.welcome — an administrator created the account; the link sets its first password
    Seed("auth.welcome", Channel.EMAIL, "en", "Welcome (account created)",
         "Hello {{ name or '' }},\n{{ inviter or 'An administrator' }} created your account"
         " in {{ workspace }} on M3CoreCRM.\nChoose your password within {{ days or 7 }} days:"
         " {{ set_password_url }}",
         subject="Your {{ workspace }} account is ready",
         variables=_vars("set_password_url", "workspace", optional=("name", "inviter", "days"))),
    Seed("auth.welcome", Channel.EMAIL, "ar", "ترحيب (إنشاء حساب)",
         "مرحبًا {{ name or '' }}،\nأنشأ {{ inviter or 'أحد المسؤولين' }} حسابك في {{ workspace }}"
         " على M3CoreCRM.\nاختر كلمة المرور خلال {{ days or 7 }} أيام: {{ set_password_url }}",
         subject="حسابك في {{ workspace }} جاهز",
         variables=_vars("set_password_url", "workspace", optional=("name", "inviter", "days"))),
)  # fmt: skip

_UPSERT = """
INSERT INTO message_templates (id, tenant_id, channel, code, family, name, locale, subject,
    body, variables, version, status, is_approved)
VALUES (%s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, 1, 'approved', true)
ON CONFLICT (tenant_id, code, locale, version) DO UPDATE SET
    name = EXCLUDED.name, subject = EXCLUDED.subject, body = EXCLUDED.body,
    variables = EXCLUDED.variables, family = EXCLUDED.family, updated_at = now()
"""


def sync_template_catalog(owner_libpq: str) -> None:
    """Make the global templates match `SEEDS` (idempotent; tenant rows untouched)."""
    with psycopg.connect(owner_libpq) as conn, conn.transaction():
        for seed in SEEDS:
            conn.execute(
                _UPSERT,
                (
                    new_id(),
                    seed.channel.value,
                    seed.code,
                    seed.family,
                    seed.name,
                    seed.locale,
                    seed.subject,
                    seed.body,
                    json.dumps(seed.variables),
                ),
            )
