"""Words and buttons for /caregiver and for caregiver alerts, from the content pack.

An alert says which dose time is unanswered (in the patient's zone), or what changes in the
plan today, never a dose amount or any other history; and always the missed-dose rule in one
line (with /missed), what the caregiver can do and the emergency line.
"""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.content import ContentPack, Html
from bot.domain.caregivers import DELAY_CHOICES, PLAN_NOTICES, Said
from bot.storage.caregivers import DueAlert, Link
from bot.views.callbacks import CaregiverButton
from bot.views.doses import local_hhmm
from bot.views.keyboards import chunked, keyboard

# The next dose is near: the head says which dose is unanswered, then a line says to skip it.
_NEXT_SOON = {Said.NEXT_SOON: Said.UNANSWERED, Said.TWO_MISSED_NEXT_SOON: Said.TWO_MISSED}


def alert_text(pack: ContentPack, alert: DueAlert, said: Said, zone: ZoneInfo) -> Html:
    patient = alert.patient_name
    params: dict[str, object] = {"patient": patient}
    if said not in PLAN_NOTICES.values():
        params.update(due=local_hhmm(alert.dose_due_at, zone), timezone=zone.key)
    first = pack.text(f"caregiver.alert_{_NEXT_SOON.get(said, said).value}", **params)
    if _NEXT_SOON.get(said, said) is Said.UNANSWERED:
        # Only what the dose row records as sent: after a downtime the follow-up may have
        # been dropped as too late, and the caregiver must not be told it was asked.
        sent = (
            "caregiver.alert_sent_both" if alert.follow_up_sent else "caregiver.alert_sent_reminder"
        )
        first = Html(f"{first} {pack.text(sent)}")
    parts: list[str] = [first]
    if said in _NEXT_SOON:
        parts.append(pack.text("caregiver.alert_next_soon", patient=patient))
    head = "\n".join(parts)
    rule = pack.text("caregiver.alert_rule", patient=patient)
    todo = pack.text(
        "caregiver.alert_what_to_do",
        patient=patient,
        emergency_line=pack.emergency_line(alert.region),
    )
    footer = pack.text("caregiver.alert_footer", patient=patient)
    return Html(f"{head}\n\n{rule}\n{todo}\n\n{footer}")


def delay_label(pack: ContentPack, minutes: int) -> Html:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return pack.text("caregiver.delay_minutes", minutes=rest)
    if not rest:
        return pack.text("caregiver.delay_hours", hours=hours)
    return pack.text("caregiver.delay_hours_minutes", hours=hours, minutes=rest)


def overview(
    pack: ContentPack,
    caregivers: list[Link],
    patients: list[Link],
    delay_minutes: int | None,
    invite: Html | None,
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """/caregiver: who is linked either way, the delay, a fresh invite; Remove / Leave and
    delay buttons."""
    parts: list[str] = []
    rows: list[list[tuple[str, str]]] = []
    if delay_minutes is not None:
        if caregivers:
            lines = [pack.text("caregiver.line", name=link.caregiver_name) for link in caregivers]
            parts.append(pack.text("caregiver.yours", names=Html("\n".join(lines))))
        else:
            parts.append(pack.text("caregiver.none_yet"))
        parts.append(pack.text("caregiver.delay_now", delay=delay_label(pack, delay_minutes)))
        if invite is not None:
            parts.append(invite)
        for link in caregivers:
            label = _plain(pack.text("caregiver.button_remove", name=link.caregiver_name))
            rows.append([(label, CaregiverButton("remove", link.link_id).pack())])
        rows.extend(
            chunked(
                [
                    (delay_label(pack, minutes), CaregiverButton("delay", minutes).pack())
                    for minutes in DELAY_CHOICES
                    if minutes != delay_minutes
                ],
                4,
            )
        )
    if patients:
        lines = [pack.text("caregiver.line", name=link.patient_name) for link in patients]
        parts.append(pack.text("caregiver.caring_for", names=Html("\n".join(lines))))
        for link in patients:
            label = _plain(pack.text("caregiver.button_leave", name=link.patient_name))
            rows.append([(label, CaregiverButton("leave", link.link_id).pack())])
    return Html("\n\n".join(parts)), keyboard(rows) if rows else None


def _plain(text: str) -> str:
    """Button labels are plain text: a name's "&" must not show as "&amp;"."""
    return html.unescape(text)
