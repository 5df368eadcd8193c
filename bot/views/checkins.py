"""Words and buttons for step check-ins and /progress, from the content pack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import ContentPack, Html
from bot.domain.checkins import HOLD_DAYS, MAX_STIFFNESS, Severity, SideEffect
from bot.domain.plans import Plan
from bot.storage.checkins import CheckIn, Hold
from bot.views.callbacks import CheckInButton, HoldButton
from bot.views.doses import doses_text, step_dates


class StepProgress(Protocol):
    """What the progress view reads of a step (``bot.services.checkins`` makes it): declared
    here, so the view depends on no service."""

    @property
    def number(self) -> int: ...
    @property
    def start(self) -> date: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def checkins(self) -> Sequence[CheckIn]: ...
    @property
    def holds(self) -> Sequence[Hold]: ...


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def checkin_intro(pack: ContentPack, checkin: CheckIn, plan: Plan) -> Html:
    if checkin.before_increase and checkin.step_number < len(plan.steps):
        following = plan.steps[checkin.step_number]
        return pack.text("checkin.intro_before_increase", next_doses=doses_text(pack, following))
    return pack.text("checkin.intro", step=checkin.step_number)


def checkin_question(
    pack: ContentPack, checkin: CheckIn, intro: Html | None = None
) -> tuple[Html, InlineKeyboardMarkup]:
    """The next unanswered question of ``checkin``, with its buttons."""
    head = f"{intro}\n\n" if intro else ""
    if checkin.stiffness is None:
        scores = [
            _button(str(score), CheckInButton(checkin.checkin_id, "stiffness", str(score)).pack())
            for score in range(MAX_STIFFNESS + 1)
        ]
        rows = [scores[:6], scores[6:]]
        return Html(head + pack.text("checkin.ask_stiffness")), InlineKeyboardMarkup(rows)
    effect = checkin.unanswered()
    if effect is not None:
        choices = [
            _button(
                pack.text(f"checkin.severity_{severity.value}"),
                CheckInButton(checkin.checkin_id, effect.value, str(severity.value)).pack(),
            )
            for severity in Severity
        ]
        name = pack.text(f"checkin.effect_{effect.value}")
        text = pack.text("checkin.ask_side_effect", effect=name)
        return Html(head + text), InlineKeyboardMarkup([choices])
    skip = _button(
        pack.text("checkin.button_skip_note"), CheckInButton(checkin.checkin_id, "note", "-").pack()
    )
    return Html(head + pack.text("checkin.ask_note")), InlineKeyboardMarkup([[skip]])


def _severity(pack: ContentPack, checkin: CheckIn, effect: SideEffect) -> Html:
    severity = checkin.side_effects.get(effect, Severity.NONE)
    return pack.text(f"checkin.severity_{severity.value}")


def _scores(pack: ContentPack, checkin: CheckIn) -> dict[str, object]:
    return {
        "stiffness": checkin.stiffness if checkin.stiffness is not None else "-",
        **{effect.value: _severity(pack, checkin, effect) for effect in SideEffect},
    }


def stiffness_only(checkin: CheckIn) -> bool:
    """A check-in of simple mode: the stiffness score, no side effect asked (not "none")."""
    return checkin.stiffness is not None and not checkin.side_effects


def checkin_done(
    pack: ContentPack, checkin: CheckIn, *, increase_ahead: bool
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The summary, advice for strong side effects, and the hold offer before an increase."""
    if stiffness_only(checkin):
        recorded = pack.text(
            "checkin.recorded_stiffness", step=checkin.step_number, stiffness=checkin.stiffness
        )
    else:
        recorded = pack.text("checkin.recorded", step=checkin.step_number, **_scores(pack, checkin))
    parts: list[str] = [recorded]
    if checkin.note:
        parts.append(pack.text("checkin.note_kept"))
    strong = [
        pack.text(f"checkin.effect_{effect.value}").lower()
        for effect, severity in checkin.side_effects.items()
        if severity is Severity.STRONG
    ]
    if strong:
        parts.append(pack.text("checkin.strong", effects=", ".join(strong)))
    if not increase_ahead:
        return Html("\n\n".join(parts)), None
    parts.append(pack.text("checkin.offer_hold"))
    buttons = [
        [_button(pack.text("checkin.button_hold"), HoldButton(checkin.checkin_id, "ask").pack())],
        [_button(pack.text("checkin.button_carry_on"), HoldButton(checkin.checkin_id, "0").pack())],
    ]
    return Html("\n\n".join(parts)), InlineKeyboardMarkup(buttons)


def hold_days_keyboard(pack: ContentPack, checkin: CheckIn) -> InlineKeyboardMarkup:
    days = [
        _button(
            pack.text("checkin.hold_days_button", days=day),
            HoldButton(checkin.checkin_id, str(day)).pack(),
        )
        for day in HOLD_DAYS
    ]
    carry_on = _button(
        pack.text("checkin.button_carry_on"), HoldButton(checkin.checkin_id, "0").pack()
    )
    return InlineKeyboardMarkup([days[:4], days[4:], [carry_on]])


def progress_view(
    pack: ContentPack, plan: Plan, steps: Sequence[StepProgress], zone: ZoneInfo, today: date
) -> Html:
    lines: list[str] = [pack.text("progress.header", kind=pack.text(f"plan.kind_{plan.kind}"))]
    for item in steps:
        step = plan.steps[item.number - 1]
        lines.append("")
        lines.append(
            pack.text(
                "progress.step",
                step=item.number,
                dates=step_dates(pack, item.start, step.days, today),
                doses=doses_text(pack, step),
            )
        )
        counts = item.counts
        lines.append(
            pack.text(
                "progress.doses",
                taken=counts.get("taken", 0),
                skipped=counts.get("skipped", 0),
                missed=sum(
                    counts.get(key, 0)
                    for key in ("missed", "sent", "snoozed", "sending", "scheduled")
                ),
                not_reminded=counts.get("paused", 0),
            )
        )
        if not item.checkins:
            lines.append(pack.text("progress.no_checkin"))
        for checkin in item.checkins:
            date = pack.day(checkin.created_at.astimezone(zone).date())
            if stiffness_only(checkin):
                lines.append(
                    pack.text("progress.checkin_stiffness", date=date, stiffness=checkin.stiffness)
                )
            else:
                lines.append(pack.text("progress.checkin", date=date, **_scores(pack, checkin)))
            if checkin.note:
                lines.append(pack.text("progress.checkin_note", note=checkin.note))
        for hold in item.holds:
            date = pack.day(hold.chosen_at.astimezone(zone).date())
            lines.append(pack.text("progress.hold", days=hold.extra_days, date=date))
    lines.append("")
    lines.append(pack.text("progress.footer"))
    return Html("\n".join(lines))
