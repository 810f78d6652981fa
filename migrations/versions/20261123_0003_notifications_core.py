"""Notifications core: outbox, templates, inbox, consent, suppression, webhooks (spec §2).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:03:17.741812
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from m3crm.kernel.db import definers
from m3crm.kernel.db.rls import (
    APP_GROUP_ROLE,
    CURRENT_TENANT,
    enable_dictionary_rls,
    enable_tenant_rls,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "notification_policies",
    "dispatch_groups",
    "messages_outbox",
    "notifications_inbox",
    "notification_preferences",
    "channel_opt_ins",
    "sms_stop_list",
    "suppression_list",
)
GLOBAL_ROW_TABLES = ("message_templates", "provider_credentials")
FUNCTIONS = (
    definers.OUTBOX_DUE_TENANTS,
    definers.OUTBOX_TENANT_BY_PROVIDER_ID,
    definers.OUTBOX_QUEUE_DEPTH,
)


def secure() -> None:
    """RLS on every new table, the webhook log's insert-only policy, the definer lookups."""
    for table in TENANT_TABLES:
        for statement in enable_tenant_rls(table):
            op.execute(statement)
    for table in GLOBAL_ROW_TABLES:
        for statement in enable_dictionary_rls(table):
            op.execute(statement)
    op.execute("ALTER TABLE integration_webhook_logs ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE integration_webhook_logs FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY webhook_read ON integration_webhook_logs FOR SELECT"
        f" USING (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(
        "CREATE POLICY webhook_insert ON integration_webhook_logs FOR INSERT"
        f" WITH CHECK (tenant_id IS NULL OR tenant_id = {CURRENT_TENANT})"
    )
    op.execute(f"GRANT SELECT, INSERT ON integration_webhook_logs TO {APP_GROUP_ROLE}")
    for statement in definers.create_definer_role():
        op.execute(statement)
    for statement in definers.definer_can_read(
        "messages_outbox",
        "tenant_id, status, scheduled_at, claimed_until, provider, provider_message_id",
    ):
        op.execute(statement)
    for function in FUNCTIONS:
        for statement in function.create_statements():
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "channel_opt_ins",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "subject_type",
            sa.Enum(
                "user",
                "contact",
                name="subject_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "whatsapp",
                "inbox",
                "push",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "action",
            sa.Enum(
                "opt_in",
                "opt_out",
                name="action",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("consent_source", sa.String(length=100), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column(
            "consent_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("recorded_by_user_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_channel_opt_ins_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_channel_opt_ins")),
    )
    op.create_index(
        "ix_channel_opt_ins_subject",
        "channel_opt_ins",
        ["tenant_id", "subject_type", "subject_id", "channel", "consent_at"],
        unique=False,
    )
    op.create_table(
        "dispatch_groups",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("correlation_key", sa.String(length=200), nullable=False),
        sa.Column("root_message_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dispatch_groups_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_dispatch_groups")),
        sa.UniqueConstraint(
            "tenant_id",
            "correlation_key",
            name=op.f("uq_dispatch_groups_tenant_id_correlation_key"),
        ),
    )
    op.create_table(
        "integration_webhook_logs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_integration_webhook_logs_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_webhook_logs")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_integration_webhook_logs_provider_event_id")
        ),
    )
    op.create_index(
        op.f("ix_integration_webhook_logs_tenant_id_received_at"),
        "integration_webhook_logs",
        ["tenant_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "message_templates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "whatsapp",
                "inbox",
                "push",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=150), nullable=False),
        sa.Column("family", sa.String(length=150), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("variables", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "approved",
                "retired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_approved", sa.Boolean(), nullable=False),
        sa.Column("provider_template_id", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_message_templates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "tenant_id",
            "code",
            "locale",
            "version",
            name=op.f("uq_message_templates_tenant_id_code_locale_version"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("ix_message_templates_family_channel_locale"),
        "message_templates",
        ["family", "channel", "locale"],
        unique=False,
    )
    op.create_index(
        "uq_message_templates_approved",
        "message_templates",
        ["tenant_id", "code", "locale"],
        unique=True,
        postgresql_where=sa.text("status = 'approved'"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "provider_credentials",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_provider_credentials_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sa.UniqueConstraint(
            "tenant_id",
            "provider",
            name=op.f("uq_provider_credentials_tenant_id_provider"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "sms_stop_list",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("e164_value", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column(
            "opted_out_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sms_stop_list_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sms_stop_list")),
        sa.UniqueConstraint(
            "tenant_id", "e164_value", name=op.f("uq_sms_stop_list_tenant_id_e164_value")
        ),
    )
    op.create_table(
        "suppression_list",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "whatsapp",
                "inbox",
                "push",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("normalized_value", sa.String(length=320), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "bounce",
                "complaint",
                "manual",
                "stop",
                name="reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_suppression_list_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_suppression_list")),
        sa.UniqueConstraint(
            "tenant_id",
            "channel",
            "normalized_value",
            name=op.f("uq_suppression_list_tenant_id_channel_normalized_value"),
        ),
    )
    op.create_table(
        "messages_outbox",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "sms",
                "whatsapp",
                "inbox",
                "push",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "transactional",
                "marketing",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sent",
                "delivered",
                "failed",
                "bounced",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("recipient_user_id", sa.UUID(), nullable=True),
        sa.Column("template_code", sa.String(length=150), nullable=True),
        sa.Column("family", sa.String(length=150), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("dispatch_group_id", sa.UUID(), nullable=True),
        sa.Column("is_mirror", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.UUID(), nullable=True),
        sa.Column(
            "scheduled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_group_id"],
            ["dispatch_groups.tenant_id", "dispatch_groups.id"],
            name=op.f("fk_messages_outbox_tenant_id_dispatch_group_id_dispatch_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recipient_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_messages_outbox_tenant_id_recipient_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_messages_outbox_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_messages_outbox")),
        sa.UniqueConstraint(
            "tenant_id",
            "idempotency_key",
            name=op.f("uq_messages_outbox_tenant_id_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_messages_outbox_due",
        "messages_outbox",
        ["scheduled_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        op.f("ix_messages_outbox_provider_provider_message_id"),
        "messages_outbox",
        ["provider", "provider_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_messages_outbox_tenant_id_status_channel_id"),
        "messages_outbox",
        ["tenant_id", "status", "channel", "id"],
        unique=False,
    )
    op.create_table(
        "notification_preferences",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("email_on_sms", sa.Boolean(), nullable=False),
        sa.Column("email_on_whatsapp", sa.Boolean(), nullable=False),
        sa.Column("inbox_on_all", sa.Boolean(), nullable=False),
        sa.Column("marketing_email_opt_in", sa.Boolean(), nullable=False),
        sa.Column("marketing_sms_opt_in", sa.Boolean(), nullable=False),
        sa.Column("marketing_whatsapp_opt_in", sa.Boolean(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_notification_preferences_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_notification_preferences_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", name=op.f("uq_notification_preferences_tenant_id_user_id")
        ),
    )
    op.create_table(
        "notifications_inbox",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("recipient_user_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "success",
                "warning",
                "error",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "approvals",
                "tasks",
                "system",
                "marketing",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("link_url", sa.String(length=500), nullable=True),
        sa.Column("meta", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_read", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatch_group_id", sa.UUID(), nullable=True),
        sa.Column("outbox_message_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_group_id"],
            ["dispatch_groups.tenant_id", "dispatch_groups.id"],
            name=op.f("fk_notifications_inbox_tenant_id_dispatch_group_id_dispatch_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recipient_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_notifications_inbox_tenant_id_recipient_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_notifications_inbox_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications_inbox")),
    )
    op.create_index(
        op.f("ix_notifications_inbox_tenant_id_recipient_user_id_is_read_id"),
        "notifications_inbox",
        ["tenant_id", "recipient_user_id", "is_read", "id"],
        unique=False,
    )
    op.create_table(
        "notification_policies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_notification_policies_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_policies")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_notification_policies_tenant_id_key")),
    )
    secure()


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(function.drop_statement())
    op.drop_index(
        op.f("ix_notifications_inbox_tenant_id_recipient_user_id_is_read_id"),
        table_name="notifications_inbox",
    )
    op.drop_table("notification_policies")
    op.drop_table("notifications_inbox")
    op.drop_table("notification_preferences")
    op.drop_index(
        op.f("ix_messages_outbox_tenant_id_status_channel_id"), table_name="messages_outbox"
    )
    op.drop_index(
        op.f("ix_messages_outbox_provider_provider_message_id"), table_name="messages_outbox"
    )
    op.drop_index(
        "ix_messages_outbox_due",
        table_name="messages_outbox",
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.drop_table("messages_outbox")
    op.drop_table("suppression_list")
    op.drop_table("sms_stop_list")
    op.drop_table("provider_credentials")
    op.drop_index(
        "uq_message_templates_approved",
        table_name="message_templates",
        postgresql_where=sa.text("status = 'approved'"),
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index(
        op.f("ix_message_templates_family_channel_locale"), table_name="message_templates"
    )
    op.drop_table("message_templates")
    op.drop_index(
        op.f("ix_integration_webhook_logs_tenant_id_received_at"),
        table_name="integration_webhook_logs",
    )
    op.drop_table("integration_webhook_logs")
    op.drop_table("dispatch_groups")
    op.drop_index("ix_channel_opt_ins_subject", table_name="channel_opt_ins")
    op.drop_table("channel_opt_ins")
