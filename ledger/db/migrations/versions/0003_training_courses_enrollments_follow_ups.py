"""Skills training: courses, enrollments and append-only follow-up visits.

`loan.enrollment_id` (from 0001) stays a plain integer: the link is checked by the service
`link_loan_to_enrollment`, so `loan` needs no batch rebuild here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.db.migrations.append_only import create_triggers

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("follow_up_visit",)


def upgrade() -> None:
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("skill", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("place", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_course_dates_in_order")),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_course_capacity")),
        sa.CheckConstraint("cost_minor >= 0", name=op.f("ck_course_cost")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("ref", name=op.f("uq_course_ref")),
    )
    op.create_index(op.f("ix_course_skill"), "course", ["skill"], unique=False)
    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("family_member_id", sa.Integer(), nullable=True),
        sa.Column("asked_skill", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("dropped_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('enrolled', 'completed', 'dropped')",
                           name=op.f("ck_enrollment_status")),
        sa.CheckConstraint("(status = 'completed') = (completed_on IS NOT NULL)",
                           name=op.f("ck_enrollment_completed_on")),
        sa.CheckConstraint("(status = 'dropped') = (dropped_on IS NOT NULL)",
                           name=op.f("ck_enrollment_dropped_on")),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"],
                                name=op.f("fk_enrollment_course_id_course")),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"],
                                name=op.f("fk_enrollment_family_id_family")),
        sa.ForeignKeyConstraint(["family_member_id"], ["family_member.id"],
                                name=op.f("fk_enrollment_family_member_id_family_member")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment")),
    )
    op.create_index(op.f("ix_enrollment_course_id"), "enrollment", ["course_id"], unique=False)
    op.create_index(op.f("ix_enrollment_family_id"), "enrollment", ["family_id"], unique=False)
    op.create_table(
        "follow_up_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("officer", sa.String(), nullable=False),
        sa.Column("activity", sa.String(length=16), nullable=False),
        sa.Column("activity_detail", sa.String(), nullable=False),
        sa.Column("income_minor", sa.BigInteger(), nullable=False),
        sa.Column("costs_minor", sa.BigInteger(), nullable=False),
        sa.Column("entered_currency", sa.String(length=3), nullable=False),
        sa.Column("entered_income_minor", sa.BigInteger(), nullable=False),
        sa.Column("entered_costs_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=True),
        sa.Column("rate_on", sa.Date(), nullable=True),
        sa.Column("business_status", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("income_minor >= 0", name=op.f("ck_follow_up_visit_income")),
        sa.CheckConstraint("costs_minor >= 0", name=op.f("ck_follow_up_visit_costs")),
        sa.CheckConstraint("activity IN ('employed', 'self-employed', 'not-working')",
                           name=op.f("ck_follow_up_visit_activity")),
        sa.ForeignKeyConstraint(["corrects_id"], ["follow_up_visit.id"],
                                name=op.f("fk_follow_up_visit_corrects_id_follow_up_visit")),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollment.id"],
                                name=op.f("fk_follow_up_visit_enrollment_id_enrollment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_visit")),
    )
    op.create_index(op.f("ix_follow_up_visit_enrollment_id"), "follow_up_visit",
                    ["enrollment_id"], unique=False)
    create_triggers(TABLES)


def downgrade() -> None:
    op.drop_index(op.f("ix_follow_up_visit_enrollment_id"), table_name="follow_up_visit")
    op.drop_table("follow_up_visit")
    op.drop_index(op.f("ix_enrollment_family_id"), table_name="enrollment")
    op.drop_index(op.f("ix_enrollment_course_id"), table_name="enrollment")
    op.drop_table("enrollment")
    op.drop_index(op.f("ix_course_skill"), table_name="course")
    op.drop_table("course")
