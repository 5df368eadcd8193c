"""The words of pump mode (issue 21): /pump, refill reminders, the alarm answer, the
caregivers' pump alerts. Texts from the pack (``pump.*``, fact sheet 2.13)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import ContentPack, Html
from bot.storage.refills import Pump
from bot.views.callbacks import PumpButton, RefillDoneButton


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def _clinic(pack: ContentPack, pump: Pump) -> str:
    if not pump.clinic_phone:
        return ""
    # The pack's texts are stripped: the space before the bracket is added here.
    return " " + pack.text("pump.clinic_inline", phone=pump.clinic_phone)


def alarm_answer(pack: ContentPack, pump: Pump, region: str | None) -> Html:
    """What an alarm means and what to do, then the early withdrawal signs."""
    emergency = pack.emergency_line(region)
    return Html(
        "\n\n".join(
            [
                pack.text("pump.alarms", clinic=_clinic(pack, pump), emergency_line=emergency),
                pack.text("pump.withdrawal_signs", emergency_line=emergency),
            ]
        )
    )


def overview(pack: ContentPack, pump: Pump, region: str | None, today: date) -> Html:
    if not pump.on:
        return Html(
            "\n\n".join(
                [
                    pack.text("pump.state_off"),
                    alarm_answer(pack, pump, region),
                    pack.text("pump.usage"),
                ]
            )
        )
    facts = [pack.text("pump.state_on")]
    if pump.refill_on is not None:
        facts.append(pack.text("pump.refill_line", date=pack.long_date(pump.refill_on, today)))
    else:
        facts.append(pack.text("pump.no_refill_date"))
    if pump.alarm_on is not None:
        facts.append(pack.text("pump.alarm_date_line", date=pack.long_date(pump.alarm_on, today)))
    if pump.clinic_phone:
        facts.append(pack.text("pump.clinic_line", phone=pump.clinic_phone))
    else:
        facts.append(pack.text("pump.no_clinic_phone"))
    return Html(
        "\n\n".join(
            [
                "\n".join(facts),
                alarm_answer(pack, pump, region),
                pack.text("pump.mri_travel"),
                pack.text("pump.tablets_note"),
                pack.text("pump.not_a_replacement"),
                pack.text("pump.usage"),
            ]
        )
    )


def overview_keyboard(pack: ContentPack, pump: Pump) -> InlineKeyboardMarkup:
    rows = []
    if pump.on and pump.refill_on is not None:
        done = RefillDoneButton(pump.refill_on.isoformat()).pack()
        rows.append([(pack.text("pump.button_done"), done)])
    if pump.on:
        rows.append([(pack.text("pump.button_off"), PumpButton("off").pack())])
    else:
        rows.append([(pack.text("pump.button_on"), PumpButton("on").pack())])
    return keyboard(rows)


def reminder(
    pack: ContentPack, kind: str, refill_on: date, pump: Pump, region: str | None, today: date
) -> tuple[Html, InlineKeyboardMarkup]:
    days = int(kind.removeprefix("d"))
    when = pack.long_date(refill_on, today)
    head = (
        pack.text("pump.reminder_day", date=when)
        if days == 0
        else pack.text("pump.reminder_before", days=days, date=when)
    )
    lines = [head, pack.text("pump.reminder_keep")]
    if pump.clinic_phone:
        lines.append(pack.text("pump.clinic_line", phone=pump.clinic_phone))
    lines.append(pack.text("pump.withdrawal_signs", emergency_line=pack.emergency_line(region)))
    lines.append(pack.text("pump.not_a_replacement"))
    done = RefillDoneButton(refill_on.isoformat()).pack()
    return Html("\n\n".join(lines)), keyboard([[(pack.text("pump.button_done"), done)]])


def caregiver_alert(
    pack: ContentPack,
    kind: str,
    patient: str,
    refill_on: date | None,
    region: str | None,
    today: date,
) -> Html:
    if kind == "cg_missed" and refill_on is not None:
        head = pack.text("pump.cg_missed", patient=patient, date=pack.long_date(refill_on, today))
    else:
        head = pack.text("pump.cg_alarm", patient=patient)
    return Html(
        "\n\n".join(
            [
                head,
                pack.text("pump.cg_what_to_do", emergency_line=pack.emergency_line(region)),
                pack.text("caregiver.alert_footer", patient=patient),
            ]
        )
    )


def plan_line(pack: ContentPack, pump: Pump, today: date) -> Html | None:
    """The /plan and report line for a pump user; None when pump mode is off."""
    if not pump.on:
        return None
    if pump.refill_on is None:
        return pack.text("pump.plan_no_date")
    return pack.text("pump.plan_line", date=pack.long_date(pump.refill_on, today))
