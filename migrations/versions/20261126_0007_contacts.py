"""Contacts & companies (spec Section 3) and custom fields: tables and RLS.

Search keys are generated columns in the "C" collation with plain btree indexes: under
row-level security PostgreSQL only lets leakproof comparisons (=, <, >=...) into index
scans, never LIKE or pg_trgm operators, so prefix ranges on folded keys are what serves
search (see `contacts/models.py`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:54:54.800012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from m3crm.kernel.db.rls import enable_tenant_rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "custom_field_defs",
    "custom_field_values",
    "companies",
    "contacts",
    "contact_channels",
    "contact_links",
    "contact_duplicates",
    "segments",
    "contact_imports",
)


def secure() -> None:
    for table in TENANT_TABLES:
        for statement in enable_tenant_rls(table):
            op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "custom_field_defs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "entity_type",
            sa.Enum(
                "contact",
                "company",
                "deal",
                "lead",
                "unit",
                name="entity_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "text",
                "number",
                "date",
                "bool",
                "select",
                "multiselect",
                name="field_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("is_unique", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
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
            ["tenant_id"], ["tenants.id"], name=op.f("fk_custom_field_defs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_custom_field_defs")),
        sa.UniqueConstraint(
            "tenant_id",
            "entity_type",
            "code",
            name=op.f("uq_custom_field_defs_tenant_id_entity_type_code"),
        ),
    )
    op.create_index(
        op.f("ix_custom_field_defs_tenant_id_entity_type_position"),
        "custom_field_defs",
        ["tenant_id", "entity_type", "position"],
        unique=False,
    )
    op.create_table(
        "companies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "inactive",
                name="company_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("owner_user_id", sa.UUID(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_name",
            sa.Text(collation="C"),
            sa.Computed("m3crm_fold(name)", persisted=True),
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
            ["tenant_id", "owner_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_companies_tenant_id_owner_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_companies_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_companies")),
    )
    op.create_index(
        op.f("ix_companies_tenant_id_domain"), "companies", ["tenant_id", "domain"], unique=False
    )
    op.create_index(
        op.f("ix_companies_tenant_id_search_name_id"),
        "companies",
        ["tenant_id", "search_name", "id"],
        unique=False,
    )
    op.create_table(
        "contact_imports",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("delimiter", sa.String(length=1), nullable=False),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("created_by_user_id", sa.UUID(), nullable=True),
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
            ["tenant_id", "created_by_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_contact_imports_tenant_id_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_imports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contact_imports")),
    )
    op.create_table(
        "custom_field_values",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "entity_type",
            sa.Enum(
                "contact",
                "company",
                "deal",
                "lead",
                "unit",
                name="entity_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("field_id", sa.UUID(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value_text", sa.String(length=500), nullable=True),
        sa.Column("unique_key", sa.String(length=500), nullable=True),
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
            ["tenant_id", "field_id"],
            ["custom_field_defs.tenant_id", "custom_field_defs.id"],
            name=op.f("fk_custom_field_values_tenant_id_field_id_custom_field_defs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_custom_field_values_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_custom_field_values")),
        sa.UniqueConstraint(
            "tenant_id",
            "entity_type",
            "entity_id",
            "field_id",
            name=op.f("uq_custom_field_values_tenant_id_entity_type_entity_id_field_id"),
        ),
    )
    op.create_index(
        op.f("ix_custom_field_values_tenant_id_field_id_value_text"),
        "custom_field_values",
        ["tenant_id", "field_id", "value_text"],
        unique=False,
    )
    op.create_index(
        "uq_custom_field_values_unique_key",
        "custom_field_values",
        ["tenant_id", "field_id", "unique_key"],
        unique=True,
        postgresql_where=sa.text("unique_key IS NOT NULL"),
    )
    op.create_table(
        "segments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "entity_type",
            sa.Enum(
                "contact",
                "company",
                name="entity_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_user_id", sa.UUID(), nullable=True),
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
            ["tenant_id", "created_by_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_segments_tenant_id_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_segments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_segments")),
        sa.UniqueConstraint(
            "tenant_id", "entity_type", "name", name=op.f("uq_segments_tenant_id_entity_type_name")
        ),
    )
    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("company_id", sa.UUID(), nullable=True),
        sa.Column("owner_user_id", sa.UUID(), nullable=True),
        sa.Column(
            "lifecycle_stage",
            sa.Enum(
                "lead",
                "prospect",
                "customer",
                "inactive",
                "lost",
                name="lifecycle_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=True),
        sa.Column("merged_into_id", sa.UUID(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_name",
            sa.Text(collation="C"),
            sa.Computed("m3crm_fold(first_name || ' ' || last_name)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "search_last",
            sa.Text(collation="C"),
            sa.Computed("m3crm_fold(last_name || ' ' || first_name)", persisted=True),
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
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_contacts_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "merged_into_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contacts_tenant_id_merged_into_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "owner_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_contacts_tenant_id_owner_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contacts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contacts")),
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_company_id_id"),
        "contacts",
        ["tenant_id", "company_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_lifecycle_stage_id"),
        "contacts",
        ["tenant_id", "lifecycle_stage", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_owner_user_id_id"),
        "contacts",
        ["tenant_id", "owner_user_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_search_last_id"),
        "contacts",
        ["tenant_id", "search_last", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_search_name_id"),
        "contacts",
        ["tenant_id", "search_name", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_updated_at_id"),
        "contacts",
        ["tenant_id", "updated_at", "id"],
        unique=False,
    )
    op.create_table(
        "contact_channels",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "email",
                "phone",
                "whatsapp",
                name="channel_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("normalized_value", sa.String(length=320), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opt_in", sa.Boolean(), nullable=False),
        sa.Column("opt_in_source", sa.String(length=100), nullable=True),
        sa.Column("opt_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opt_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column(
            "search_value",
            sa.Text(collation="C"),
            sa.Computed(
                "CASE WHEN type = 'email' THEN normalized_value ELSE reverse(ltrim(normalized_value, '+')) END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("verification_hash", sa.String(length=64), nullable=True),
        sa.Column("verification_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "verification_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
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
            ["tenant_id", "contact_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contact_channels_tenant_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_channels_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contact_channels")),
        sa.UniqueConstraint(
            "tenant_id",
            "type",
            "normalized_value",
            name=op.f("uq_contact_channels_tenant_id_type_normalized_value"),
        ),
    )
    op.create_index(
        op.f("ix_contact_channels_tenant_id_contact_id"),
        "contact_channels",
        ["tenant_id", "contact_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contact_channels_tenant_id_type_search_value"),
        "contact_channels",
        ["tenant_id", "type", "search_value"],
        unique=False,
    )
    op.create_table(
        "contact_duplicates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("contact_a_id", sa.UUID(), nullable=False),
        sa.Column("contact_b_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.UUID(), nullable=True),
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
            ["tenant_id", "contact_a_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contact_duplicates_tenant_id_contact_a_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "contact_b_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contact_duplicates_tenant_id_contact_b_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "merged_into_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contact_duplicates_tenant_id_merged_into_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_duplicates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contact_duplicates")),
        sa.UniqueConstraint(
            "tenant_id",
            "contact_a_id",
            "contact_b_id",
            name=op.f("uq_contact_duplicates_tenant_id_contact_a_id_contact_b_id"),
        ),
    )
    op.create_index(
        op.f("ix_contact_duplicates_tenant_id_contact_b_id"),
        "contact_duplicates",
        ["tenant_id", "contact_b_id"],
        unique=False,
    )
    op.create_table(
        "contact_links",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("contact_id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column(
            "relation",
            sa.Enum(
                "employee",
                "stakeholder",
                "other",
                name="link_relation",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
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
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_contact_links_tenant_id_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "contact_id"],
            ["contacts.tenant_id", "contacts.id"],
            name=op.f("fk_contact_links_tenant_id_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contact_links_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contact_links")),
        sa.UniqueConstraint(
            "tenant_id",
            "contact_id",
            "company_id",
            name=op.f("uq_contact_links_tenant_id_contact_id_company_id"),
        ),
    )
    op.create_index(
        op.f("ix_contact_links_tenant_id_company_id"),
        "contact_links",
        ["tenant_id", "company_id"],
        unique=False,
    )
    secure()


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_links_tenant_id_company_id"), table_name="contact_links")
    op.drop_table("contact_links")
    op.drop_index(
        op.f("ix_contact_duplicates_tenant_id_contact_b_id"), table_name="contact_duplicates"
    )
    op.drop_table("contact_duplicates")
    op.drop_index(
        op.f("ix_contact_channels_tenant_id_type_search_value"), table_name="contact_channels"
    )
    op.drop_index(op.f("ix_contact_channels_tenant_id_contact_id"), table_name="contact_channels")
    op.drop_table("contact_channels")
    op.drop_index(op.f("ix_contacts_tenant_id_updated_at_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id_search_name_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id_search_last_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id_owner_user_id_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id_lifecycle_stage_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_tenant_id_company_id_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("segments")
    op.drop_index(
        "uq_custom_field_values_unique_key",
        table_name="custom_field_values",
        postgresql_where=sa.text("unique_key IS NOT NULL"),
    )
    op.drop_index(
        op.f("ix_custom_field_values_tenant_id_field_id_value_text"),
        table_name="custom_field_values",
    )
    op.drop_table("custom_field_values")
    op.drop_table("contact_imports")
    op.drop_index(op.f("ix_companies_tenant_id_search_name_id"), table_name="companies")
    op.drop_index(op.f("ix_companies_tenant_id_domain"), table_name="companies")
    op.drop_table("companies")
    op.drop_index(
        op.f("ix_custom_field_defs_tenant_id_entity_type_position"), table_name="custom_field_defs"
    )
    op.drop_table("custom_field_defs")
