"""People, their alerts, needs, earlier versions and search tokens; the professional family;
contacts and append-only notes; the timeline.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:46:54.934490
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("names_enc", sa.LargeBinary(), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "other",
                "not_known",
                name="sex",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("year_of_birth", sa.Integer(), nullable=True),
        sa.Column("postcode_district", sa.String(length=8), nullable=True),
        sa.Column(
            "housing_status",
            sa.Enum(
                "settled",
                "temporary",
                "sofa_surfing",
                "no_fixed_abode",
                "hostel",
                "care_home",
                "prison",
                "hospital",
                "not_known",
                name="housing_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("created_by_agency_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_agency_id"],
            ["agencies.id"],
            name=op.f("fk_people_created_by_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_people_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_people_created_by_agency_id"), ["created_by_agency_id"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "face_to_face",
                "phone",
                "outreach",
                "home_visit",
                "welfare_check",
                "text",
                "video",
                "attempted",
                name="contact_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "seen_well",
                "seen_concerns",
                "support_given",
                "referred",
                "not_found",
                "declined",
                "no_answer",
                name="contact_outcome",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("place_enc", sa.LargeBinary(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "identity",
                "substance_use",
                "health",
                "offending",
                "housing",
                "domestic_abuse",
                "case_notes",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("note_revision", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_contacts_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_contacts_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_contacts_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_contacts_worker_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_person_id_category_occurred_at_agency_id"),
            ["person_id", "category", "occurred_at", "agency_id"],
            unique=False,
        )

    op.create_table(
        "involvements",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "key_worker",
                "outreach_worker",
                "care_coordinator",
                "social_worker",
                "housing_officer",
                "probation_officer",
                "police_contact",
                "nurse",
                "idva",
                "peer_mentor",
                "support_worker",
                "other",
                name="family_role",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("is_lead", sa.Boolean(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column(
            "closure_reason",
            sa.Enum(
                "completed",
                "moved_away",
                "declined",
                "referred_on",
                "no_longer_engaging",
                "in_prison",
                "died",
                "other",
                name="closure_reason",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_involvements_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_involvements_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_involvements_worker_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvements")),
    )
    with op.batch_alter_table("involvements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_involvements_agency_id_ended_on_person_id"),
            ["agency_id", "ended_on", "person_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_involvements_open_worker",
            ["worker_id", "person_id"],
            unique=False,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_involvements_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_involvements_open_agency",
            ["person_id", "agency_id"],
            unique=True,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )
        batch_op.create_index(
            "uq_involvements_open_lead",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("is_lead AND ended_on IS NULL"),
            postgresql_where=sa.text("is_lead AND ended_on IS NULL"),
        )

    op.create_table(
        "person_alerts",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("alert_type", sa.String(length=40), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "identity",
                "substance_use",
                "health",
                "offending",
                "housing",
                "domestic_abuse",
                "case_notes",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("raised_by_id", sa.Uuid(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail_enc", sa.LargeBinary(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_person_alerts_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_person_alerts_ended_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_alerts_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["users.id"], name=op.f("fk_person_alerts_raised_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_alerts")),
    )
    with op.batch_alter_table("person_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_alerts_person_id_ended_at"),
            ["person_id", "ended_at"],
            unique=False,
        )

    op.create_table(
        "person_needs",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("need", sa.String(length=40), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "identity",
                "substance_use",
                "health",
                "offending",
                "housing",
                "domestic_abuse",
                "case_notes",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_person_needs_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_needs_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_person_needs_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_needs")),
    )
    with op.batch_alter_table("person_needs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_needs_person_id_ended_at"),
            ["person_id", "ended_at"],
            unique=False,
        )

    op.create_table(
        "person_revisions",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("names_enc", sa.LargeBinary(), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "other",
                "not_known",
                name="sex",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "housing_status",
            sa.Enum(
                "settled",
                "temporary",
                "sofa_surfing",
                "no_fixed_abode",
                "hostel",
                "care_home",
                "prison",
                "hospital",
                "not_known",
                name="housing_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=False),
        sa.Column("replaced_by_agency_id", sa.Uuid(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_revisions_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_agency_id"],
            ["agencies.id"],
            name=op.f("fk_person_revisions_replaced_by_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"], ["users.id"], name=op.f("fk_person_revisions_replaced_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_revisions")),
    )
    with op.batch_alter_table("person_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_revisions_person_id_version"),
            ["person_id", "version"],
            unique=False,
        )

    op.create_table(
        "person_search_tokens",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "name",
                "phonetic",
                "dob",
                "nhs",
                "pnc",
                "local",
                name="token_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_search_tokens_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "kind", "token", name=op.f("pk_person_search_tokens")),
    )
    with op.batch_alter_table("person_search_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_search_tokens_kind_token"), ["kind", "token"], unique=False
        )

    op.create_table(
        "notes",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("agency_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_notes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_notes_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notes_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("contact_id", "revision", name=op.f("uq_notes_contact_id_revision")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_person_id"), ["person_id"], unique=False)

    op.create_table(
        "timeline_entries",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "person_created",
                "identity_changed",
                "contact",
                "note_revised",
                "family_added",
                "family_changed",
                "lead_changed",
                "family_ended",
                "alert_raised",
                "alert_ended",
                "needs_changed",
                "housing_changed",
                "died",
                name="timeline_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "identity",
                "substance_use",
                "health",
                "offending",
                "housing",
                "domestic_abuse",
                "case_notes",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("agency_only", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_timeline_entries_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_timeline_entries_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_timeline_entries_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_timeline_entries_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_entries_person_id_occurred_at_id"),
            ["person_id", "occurred_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_entries_person_id_occurred_at_id"))

    op.drop_table("timeline_entries")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_person_id"))

    op.drop_table("notes")
    with op.batch_alter_table("person_search_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_search_tokens_kind_token"))

    op.drop_table("person_search_tokens")
    with op.batch_alter_table("person_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_revisions_person_id_version"))

    op.drop_table("person_revisions")
    with op.batch_alter_table("person_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_needs_person_id_ended_at"))

    op.drop_table("person_needs")
    with op.batch_alter_table("person_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_alerts_person_id_ended_at"))

    op.drop_table("person_alerts")
    with op.batch_alter_table("involvements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_involvements_open_lead",
            sqlite_where=sa.text("is_lead AND ended_on IS NULL"),
            postgresql_where=sa.text("is_lead AND ended_on IS NULL"),
        )
        batch_op.drop_index(
            "uq_involvements_open_agency",
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_involvements_person_id"))
        batch_op.drop_index(
            "ix_involvements_open_worker",
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_involvements_agency_id_ended_on_person_id"))

    op.drop_table("involvements")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_person_id_category_occurred_at_agency_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_created_by_agency_id"))

    op.drop_table("people")
