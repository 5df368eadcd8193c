"""What a patient's free text means: an emergency, a stop or ran-out message, a question with
its fact topic, an everyday request, thanks, or "not sure" (ask back with buttons).

Pure: no Telegram, no database. The caller passes the text and the compiled lexicon.

PROVISIONAL: this first version wraps the phrase patterns of ``bot.domain.redflags``; the
interface (``Meaning``, ``Reading``, ``understand``) is what the handlers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.redflags import Category, Intent, IntentRules, classify


class Meaning(StrEnum):
    """What the bot answers, most urgent first."""

    EMERGENCY = "emergency"  # the emergency answer first
    RAN_OUT = "ran_out"  # ran out or already stopped: act today
    WANTS_TO_STOP = "wants_to_stop"  # do not stop suddenly; the taper flow
    QUESTION = "question"  # a question: its fact topic (``Reading.topic``) first
    FORGOT_DOSE = "forgot_dose"  # the missed-dose rule for the latest dose
    TOOK_IT = "took_it"  # offer to record it against the latest open dose (on a press)
    PAUSE_REMINDERS = "pause_reminders"  # stop or move the reminders (not the medicine)
    THANKS = "thanks"  # thanks, greetings, ok: a short friendly reply
    UNSURE = "unsure"  # mentions a sign, an amount, the drug or a person: ask back
    OTHER = "other"  # nothing recognised


@dataclass(frozen=True)
class Reading:
    meaning: Meaning
    categories: frozenset[Category] = frozenset()  # the emergency / stop categories found
    topic: str | None = None  # the fact topic that answers it (questions, and alarms)
    is_question: bool = False


_INTENTS = {
    Intent.EMERGENCY: Meaning.EMERGENCY,
    Intent.RAN_OUT: Meaning.RAN_OUT,
    Intent.WANTS_TO_STOP: Meaning.WANTS_TO_STOP,
    Intent.OTHER: Meaning.OTHER,
}


def understand(text: str, rules: IntentRules) -> Reading:
    recognised = classify(text, rules)
    return Reading(
        _INTENTS[recognised.intent],
        recognised.categories,
        recognised.topic,
        recognised.is_question,
    )
