"""Skills training: courses, enrollments of family members, and follow-up visits.

Courses and enrollments are editable master data (an enrollment's status moves through a
service that records the date). Follow-up visits are append-only facts: a wrong visit is
corrected by a new visit whose `corrects_id` names it, never by an edit.

Visit money is stored in riel (`income_minor`, `costs_minor`); a visit entered in dollars also
keeps what was typed (`entered_*`), the riel-per-dollar `rate` used and the `rate_on` date.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.db.tables.base import MINOR, DecimalText, UTCDateTime, utc_now

__all__ = [
    "ENROLLMENT_STATUSES",
    "SKILLS",
    "VISIT_ACTIVITIES",
    "Course",
    "Enrollment",
    "FollowUpVisit",
]

# The skills courses teach and people ask for (slugs as stored and typed on the command line).
SKILLS: tuple[str, ...] = (
    "sewing", "tailoring", "beauty-salon", "haircutting", "motorcycle-repair", "car-repair",
    "electronics-repair", "english", "khmer-literacy", "basic-computing", "cooking",
    "mat-weaving", "pig-raising", "chicken-raising", "cattle-raising", "vegetable-growing",
    "brick-making", "business-management",
)  # fmt: skip
ENROLLMENT_STATUSES: tuple[str, ...] = ("enrolled", "completed", "dropped")
VISIT_ACTIVITIES: tuple[str, ...] = ("employed", "self-employed", "not-working")


class Course(SQLModel, table=True):
    """A training course: one skill, taught by a provider at a place between two dates."""

    __tablename__ = "course"
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint("capacity >= 1", name="capacity"),
        sa.CheckConstraint("cost_minor >= 0", name="cost"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    skill: str = Field(max_length=30, index=True)
    provider: str
    place: str
    starts_on: date
    ends_on: date
    capacity: int
    cost_minor: int = Field(sa_type=MINOR)
    currency: str = Field(max_length=3)
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Enrollment(SQLModel, table=True):
    """A family's head (`family_member_id` None) or a named member enrolled in a course."""

    __tablename__ = "enrollment"
    __table_args__ = (
        sa.CheckConstraint("status IN ('enrolled', 'completed', 'dropped')", name="status"),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_on IS NOT NULL)", name="completed_on"
        ),
        sa.CheckConstraint("(status = 'dropped') = (dropped_on IS NOT NULL)", name="dropped_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    family_id: int = Field(foreign_key="family.id", index=True)
    family_member_id: int | None = Field(default=None, foreign_key="family_member.id")
    asked_skill: str = Field(max_length=30)
    status: str = Field(default="enrolled", max_length=10)
    enrolled_on: date
    completed_on: date | None = None
    dropped_on: date | None = None
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class FollowUpVisit(SQLModel, table=True):
    """One visit to a trained person: what they do, what they earn and spend a month (riel)."""

    __tablename__ = "follow_up_visit"
    __table_args__ = (
        sa.CheckConstraint("income_minor >= 0", name="income"),
        sa.CheckConstraint("costs_minor >= 0", name="costs"),
        sa.CheckConstraint(
            "activity IN ('employed', 'self-employed', 'not-working')", name="activity"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    visited_on: date
    officer: str
    activity: str = Field(max_length=16)
    activity_detail: str = ""
    income_minor: int = Field(sa_type=MINOR)
    costs_minor: int = Field(sa_type=MINOR)
    entered_currency: str = Field(max_length=3)
    entered_income_minor: int = Field(sa_type=MINOR)
    entered_costs_minor: int = Field(sa_type=MINOR)
    rate: Decimal | None = Field(default=None, sa_type=DecimalText)
    rate_on: date | None = None
    business_status: str | None = Field(default=None, max_length=20)
    notes: str = Field(default="", sa_type=sa.Text)
    corrects_id: int | None = Field(default=None, foreign_key="follow_up_visit.id")
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
