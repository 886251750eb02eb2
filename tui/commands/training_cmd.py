"""`fsf training …` records courses, enrollments, loan links and follow-up visits;
`fsf report training skills|follow-ups` shows outcomes per skill and the visits due."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from ledger.db.tables import Family, Loan
from ledger.disclosure import percent
from ledger.money import Money
from ledger.reports.training import (
    FollowUpReport,
    SkillReport,
    follow_ups_due,
    skill_outcomes,
)
from ledger.services.errors import NotFound
from ledger.services.families import MemberInput
from ledger.services.training import (
    CourseInput,
    EnrollmentInput,
    add_course,
    enroll,
    find_course,
    link_loan_to_enrollment,
    set_enrollment_status,
)
from ledger.services.training_followups import VisitInput, record_follow_up
from tui.commands import parsing
from tui.commands.context import acting_actor, get_cli, ledger_session, run
from tui.commands.errors import CliError, fail
from tui.commands.report_group import report_group

Opt = typer.Option
T = TypeVar("T")
JSON = Annotated[bool, Opt("--json", help="Print one JSON object.")]


def _do(ctx: typer.Context, command: str, action: Callable[[Session, Any, date], T],
        reading: bool = False) -> T:
    """Open the ledger, act as the user, and turn refusals into one line; `reading`: the
    command only reads (`ledger_session`)."""
    cli = get_cli(ctx)
    with ledger_session(cli, command, reading=reading) as session:
        actor = acting_actor(cli, session)
        try:
            return run(command, lambda: action(session, actor, cli.today))
        except CliError as exc:
            fail(command, exc)


def _family_id(session: Session, ref: str) -> int:
    found = session.execute(sa.select(Family.id).where(Family.ref == ref)).scalar()  # type: ignore[arg-type]
    if found is None:
        raise NotFound(f"{ref!r} is not a family in this ledger", field="--family")
    return int(found)


def _loan_id(session: Session, ref: str) -> int:
    found = session.execute(sa.select(Loan.id).where(Loan.ref == ref)).scalar()  # type: ignore[arg-type]
    if found is None:
        raise NotFound(f"{ref!r} is not a loan in this ledger", field="--loan")
    return int(found)


def _day(option: str, text: str | None) -> date | None:
    return None if text is None else parsing.iso_date(option, text)


def _pct(x: Decimal | None) -> str | None:
    return None if x is None else percent(x)


def register(app: typer.Typer) -> None:
    """Attach `fsf training …` and `fsf report training …`."""
    training = typer.Typer(help="Skills training: courses, enrollments, follow-up visits.",
                           no_args_is_help=True)
    app.add_typer(training, name="training")
    reports = typer.Typer(help="Training outcomes and follow-ups.", no_args_is_help=True)
    report_group(app).add_typer(reports, name="training")

    @training.command("course")
    def course_cmd(
        ctx: typer.Context,
        ref: Annotated[str, Opt(help="Course reference, e.g. SEW-2008-01.")],
        skill: Annotated[str, Opt(help="The skill taught, e.g. sewing, pig-raising.")],
        provider: Annotated[str, Opt(help="Organisation that teaches it.")],
        place: Annotated[str, Opt(help="Where it is taught.")],
        starts: Annotated[str, Opt(help="First day (YYYY-MM-DD).")],
        ends: Annotated[str, Opt(help="Last day (YYYY-MM-DD).")],
        capacity: Annotated[str, Opt(help="Places.")],
        cost: Annotated[str, Opt(help="Cost of the course.")] = "0",
        currency: Annotated[str, Opt(help="KHR or USD.")] = "KHR",
    ) -> None:
        """Record a training course."""
        def act(s: Session, actor: Any, _today: date) -> str:
            cur = parsing.currency("--currency", currency)
            data = CourseInput(
                ref=ref, skill=skill.strip().lower(), provider=provider, place=place,
                starts_on=parsing.iso_date("--starts", starts),
                ends_on=parsing.iso_date("--ends", ends),
                capacity=parsing.whole("--capacity", capacity, minimum=1),
                cost=Money(parsing.amount("--cost", cost, cur, positive=False), cur))
            made = add_course(s, actor=actor, data=data)
            return f"Course {made.ref} (id {made.id}): {made.skill}, {data.starts_on} to " \
                   f"{data.ends_on}, {made.capacity} places"
        typer.echo(_do(ctx, "training course", act))

    @training.command("enroll")
    def enroll_cmd(
        ctx: typer.Context,
        course: Annotated[str, Opt(help="Course reference.")],
        family: Annotated[str, Opt(help="Family reference.")],
        on: Annotated[str, Opt(help="Enrollment date (YYYY-MM-DD).")],
        member_id: Annotated[str | None, Opt(help="A listed member (default: the head).")] = None,
        new_member: Annotated[str | None, Opt(help="Name of a member not yet listed.")] = None,
        relation: Annotated[str | None, Opt(help="The new member's relation.")] = None,
        asked: Annotated[str | None, Opt(help="Skill the person asked for.")] = None,
        status: Annotated[str, Opt(help="enrolled, completed or dropped.")] = "enrolled",
        completed: Annotated[str | None, Opt(help="Completion date.")] = None,
        dropped: Annotated[str | None, Opt(help="Date the person left.")] = None,
    ) -> None:
        """Enrol a family's head (or a member) in a course; prints the enrollment id."""
        def act(s: Session, actor: Any, today: date) -> str:
            c = find_course(s, course)
            assert c.id is not None
            member = MemberInput(new_member, relation=relation) if new_member else None
            e = enroll(s, actor=actor, today=today, data=EnrollmentInput(
                course_id=c.id, family_id=_family_id(s, family),
                enrolled_on=parsing.iso_date("--on", on),
                member_id=parsing.whole("--member-id", member_id, minimum=1)
                if member_id else None, new_member=member,
                asked_skill=asked.strip().lower() if asked else None, status=status,
                completed_on=_day("--completed", completed),
                dropped_on=_day("--dropped", dropped)))
            return f"Enrollment {e.id}: {family} in {c.ref} ({c.skill}), {e.status}"
        typer.echo(_do(ctx, "training enroll", act))

    @training.command("status")
    def status_cmd(
        ctx: typer.Context,
        enrollment: Annotated[int, Opt(help="Enrollment id.")],
        to: Annotated[str, Opt("--set", help="completed, dropped or enrolled.")],
        on: Annotated[str | None, Opt(help="Date completed or dropped.")] = None,
    ) -> None:
        """Mark an enrollment completed or dropped (with the date), or enrolled again."""
        def act(s: Session, actor: Any, today: date) -> str:
            e = set_enrollment_status(s, actor=actor, enrollment_id=enrollment, status=to,
                                      on=_day("--on", on), today=today)
            return f"Enrollment {e.id}: {e.status}" + (f" on {on}" if on else "")
        typer.echo(_do(ctx, "training status", act))

    @training.command("link-loan")
    def link_cmd(
        ctx: typer.Context,
        loan: Annotated[str, Opt(help="Loan reference.")],
        enrollment: Annotated[str, Opt(help="Enrollment id, or 'none' to remove the link.")],
        on: Annotated[str | None, Opt(help="Date of the link (default: today).")] = None,
    ) -> None:
        """Name the training whose skill a loan's activity uses."""
        def act(s: Session, actor: Any, today: date) -> str:
            eid = None if enrollment.strip().lower() == "none" else parsing.whole(
                "--enrollment", enrollment, minimum=1)
            link_loan_to_enrollment(s, actor=actor, loan_id=_loan_id(s, loan),
                                    enrollment_id=eid, on=_day("--on", on) or today)
            return f"Loan {loan}: " + (f"linked to enrollment {eid}" if eid else "no training")
        typer.echo(_do(ctx, "training link-loan", act))

    @training.command("visit")
    def visit_cmd(
        ctx: typer.Context,
        enrollment: Annotated[int, Opt(help="Enrollment id.")],
        on: Annotated[str, Opt(help="Visit date (YYYY-MM-DD).")],
        activity: Annotated[str, Opt(help="employed, self-employed or not-working.")],
        income: Annotated[str, Opt(help="Monthly income.")],
        costs: Annotated[str, Opt(help="Monthly food and housing costs.")],
        detail: Annotated[str, Opt(help="Employed where / self-employed in what.")] = "",
        officer: Annotated[str | None, Opt(help="Visiting officer (default: you).")] = None,
        currency: Annotated[str, Opt(help="KHR or USD.")] = "KHR",
        rate: Annotated[str | None, Opt(help="Riel per dollar used.")] = None,
        rate_date: Annotated[str | None, Opt(help="Date of that rate.")] = None,
        business: Annotated[str | None, Opt(help="none, starting, running, growing, "
                                                 "struggling or closed.")] = None,
        notes: Annotated[str, Opt(help="What the officer saw.")] = "",
        corrects: Annotated[int | None, Opt(help="Id of a visit this one corrects.")] = None,
    ) -> None:
        """Record a follow-up visit (append-only; correct one with --corrects)."""
        def act(s: Session, actor: Any, today: date) -> str:
            cur = parsing.currency("--currency", currency)
            v = record_follow_up(s, actor=actor, today=today, data=VisitInput(
                enrollment_id=enrollment, visited_on=parsing.iso_date("--on", on),
                officer=officer or actor.name, activity=activity.strip().lower(),
                activity_detail=detail,
                income=Money(parsing.amount("--income", income, cur, positive=False), cur),
                costs=Money(parsing.amount("--costs", costs, cur, positive=False), cur),
                rate=parsing.rate("--rate", rate) if rate else None,
                rate_on=_day("--rate-date", rate_date), business_status=business,
                notes=notes, corrects=corrects))
            return (f"Visit {v.id}: enrollment {enrollment} on {on}, income "
                    f"{Money.from_minor(v.income_minor, 'KHR')} a month")
        typer.echo(_do(ctx, "training visit", act))

    @reports.command("skills")
    def skills_cmd(
        ctx: typer.Context,
        as_of: Annotated[str | None, Opt(help="Report day (default today).")] = None,
        threshold: Annotated[str, Opt(help="Monthly income to reach.")] = "50",
        threshold_currency: Annotated[str, Opt(help="KHR or USD.")] = "USD",
        rate: Annotated[str | None, Opt(help="Riel per dollar for visits entered in riel "
                                             "(default: the latest stored).")] = None,
        as_json: JSON = False,
    ) -> None:
        """Per skill: enrolled, completed, dropped, mismatches, linked loans (PAR30, on-time
        rate), median latest income and the share at the threshold (default US$50)."""
        def act(s: Session, actor: Any, today: date) -> SkillReport:
            cur = parsing.currency("--threshold-currency", threshold_currency)
            bar = Money(parsing.amount("--threshold", threshold, cur, positive=False), cur)
            return skill_outcomes(s, actor=actor, as_of=_day("--as-of", as_of) or today,
                                  threshold=bar,
                                  rate=parsing.rate("--rate", rate) if rate else None)
        report = _do(ctx, "report training skills", act, reading=True)
        typer.echo(json.dumps(skills_json(report), ensure_ascii=False) if as_json
                   else skills_text(report))

    @reports.command("follow-ups")
    def follow_ups_cmd(
        ctx: typer.Context,
        as_of: Annotated[str | None, Opt(help="Report day (default today).")] = None,
        as_json: JSON = False,
    ) -> None:
        """Who is due a follow-up visit within 30 days, and who has waited more than three
        months, by village and by officer."""
        report = _do(ctx, "report training follow-ups", lambda s, actor, today: follow_ups_due(
            s, actor=actor, as_of=_day("--as-of", as_of) or today), reading=True)
        typer.echo(json.dumps(follow_ups_json(report), ensure_ascii=False) if as_json
                   else follow_ups_text(report))


def skills_json(report: SkillReport) -> dict[str, Any]:
    """The stable JSON of `fsf report training skills`: riel amounts as strings, shares as
    percent strings with two decimals (null when nobody is counted)."""
    return {
        "as_of": report.as_of.isoformat(),
        "threshold": report.threshold.plain(),
        "threshold_currency": report.threshold.currency.code,
        "rate": None if report.rate is None else f"{report.rate.normalize():f}",
        "rate_on": None if report.rate_on is None else report.rate_on.isoformat(),
        "skills": [{
            "skill": r.skill, "enrolled": r.enrolled, "in_training": r.in_training,
            "completed": r.completed, "dropped": r.dropped, "mismatched": r.mismatched,
            "mismatch_pct": _pct(r.mismatch_share), "with_loan": r.with_loan,
            "loan_pct": _pct(r.loan_share), "linked_loans": r.linked_loans,
            "par30_pct": _pct(r.par30), "on_time_pct": _pct(r.on_time_rate),
            "followed_up": r.followed_up,
            "median_income": None if r.median_income is None else r.median_income.plain(),
            "at_threshold": r.at_threshold, "at_threshold_pct": _pct(r.threshold_share),
        } for r in report.rows],
    }


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=False)]
    lines = [header, ["-" * w for w in widths], *rows]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(line, widths, strict=True))).rstrip()
            for line in lines]


def skills_text(report: SkillReport) -> str:
    """The skills report as an aligned table."""
    rate = "" if report.rate is None else f" (riel visits at {report.rate.normalize():f} ៛/$)"
    head = [f"Training outcomes as of {report.as_of}; threshold {report.threshold} a month"
            f"{rate}", ""]
    cols = ["Skill", "Enrolled", "Training", "Done", "Dropped", "Mismatch %", "Loan %",
            "PAR30 %", "On time %", "Visited", "Median income", "≥ threshold %"]
    rows = [[r.skill, str(r.enrolled), str(r.in_training), str(r.completed), str(r.dropped),
             _pct(r.mismatch_share) or "-", _pct(r.loan_share) or "-", _pct(r.par30) or "-",
             _pct(r.on_time_rate) or "-", str(r.followed_up),
             str(r.median_income) if r.median_income else "-",
             _pct(r.threshold_share) or "-"] for r in report.rows]
    return "\n".join(head + _table(cols, rows))


def follow_ups_json(report: FollowUpReport) -> dict[str, Any]:
    """The stable JSON of `fsf report training follow-ups`."""
    return {
        "as_of": report.as_of.isoformat(), "followed": report.followed,
        "due": sum(1 for r in report.rows if not r.overdue),
        "overdue": sum(1 for r in report.rows if r.overdue),
        "people": [{
            "enrollment_id": r.enrollment_id, "family": r.family_ref, "person": r.person,
            "village": r.village, "officer": r.officer, "skill": r.skill,
            "since": r.since.isoformat(),
            "last_visit": None if r.last_visit is None else r.last_visit.isoformat(),
            "next_visit": r.next_visit.isoformat(), "days_overdue": r.days_overdue,
        } for r in report.rows],
        "by_village": [{"village": g.name, "due": g.due, "overdue": g.overdue}
                       for g in report.by_village],
        "by_officer": [{"officer": g.name, "due": g.due, "overdue": g.overdue}
                       for g in report.by_officer],
    }


def follow_ups_text(report: FollowUpReport) -> str:
    """The follow-up report: the people, then the counts by village and by officer."""
    late = sum(1 for r in report.rows if r.overdue)
    lines = [f"Follow-ups as of {report.as_of}: {report.followed} in their follow-up year, "
             f"{len(report.rows) - late} due within 30 days, {late} overdue", ""]
    lines += _table(["Village", "Family", "Person", "Skill", "Officer", "Last visit", "Next",
                     "Days late"],
                    [[r.village, r.family_ref, r.person, r.skill, r.officer or "-",
                      str(r.last_visit or "never"), str(r.next_visit), str(r.days_overdue)]
                     for r in report.rows])
    for title, groups in (("Village", report.by_village), ("Officer", report.by_officer)):
        lines += ["", *_table([title, "Due", "Overdue"],
                              [[g.name or "-", str(g.due), str(g.overdue)] for g in groups])]
    return "\n".join(lines)


__all__ = ["follow_ups_json", "follow_ups_text", "register", "skills_json", "skills_text"]
