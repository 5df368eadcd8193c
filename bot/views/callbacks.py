"""Typed button data: each button's format lives here once, for the keyboard and the handler.

Like aiogram's ``CallbackData``: a button is a frozen dataclass with a prefix; ``pack()`` makes
the ``callback_data`` (``prefix:field:field``), ``unpack()`` reads it back or returns None for
anything that is not exactly such a button (stale, forged, mangled), and ``pattern()`` is the
handler's filter. Telegram carries at most 64 bytes of ``callback_data``; ``pack()`` refuses
more, so an oversized button fails in a test rather than at Telegram.

The admin buttons are here too (:class:`AdminButton`, one handler filter per verb).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import ClassVar, Literal, Self, get_args, get_type_hints

from bot.domain.audience import Segment
from bot.domain.repeats import REPEAT_CHOICES, valid_choice

CALLBACK_DATA_MAX_BYTES = 64
_MAX_INT_DIGITS = 18


class CallbackData:
    """Base of every typed button; subclasses name their ``prefix`` and fields.

    Fields are ``int`` or ``str`` (the last field may contain ":"). A subclass checks its
    values in ``__post_init__`` and raises ``ValueError`` for one it does not take.
    """

    prefix: ClassVar[str]

    @classmethod
    def pattern(cls) -> str:
        return rf"^{re.escape(cls.prefix)}:"

    def pack(self) -> str:
        values = [str(getattr(self, field.name)) for field in fields(self)]  # type: ignore[arg-type]
        # Trailing fields left at their default are not written: unpack() fills them back in.
        for field in reversed(fields(self)):  # type: ignore[arg-type]
            if field.default is MISSING or getattr(self, field.name) != field.default:
                break
            values.pop()
        data = ":".join([self.prefix, *values])
        if len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
            raise ValueError(f"callback_data over {CALLBACK_DATA_MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        head, sep, rest = (data or "").partition(":")
        if head != cls.prefix or not sep:
            return None
        names = fields(cls)  # type: ignore[arg-type]
        parts = rest.split(":", len(names) - 1)
        required = [field for field in names if field.default is MISSING]
        if not len(required) <= len(parts) <= len(names):
            return None
        hints = get_type_hints(cls)
        values: dict[str, object] = {}
        for field, raw in zip(names, parts, strict=False):
            if hints[field.name] is int:
                if not raw.isdigit() or len(raw) > _MAX_INT_DIGITS:
                    return None
                values[field.name] = int(raw)
            else:
                values[field.name] = raw
        try:
            return cls(**values)
        except (TypeError, ValueError):
            return None


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {allowed}")


DoseAnswer = Literal["taken", "skip", "snooze"]
DOSE_ANSWERS: tuple[DoseAnswer, ...] = get_args(DoseAnswer)


@dataclass(frozen=True)
class DoseButton(CallbackData):
    """Taken / Skip / Snooze on a dose: ``dose:<event id>:<answer>``."""

    prefix: ClassVar[str] = "dose"
    event_id: int
    answer: str

    def __post_init__(self) -> None:
        _one_of(self.answer, DOSE_ANSWERS, "answer")


@dataclass(frozen=True)
class DoseMoreButton(CallbackData):
    """Simple mode's "More" under a reminder: ``dmore:<event id>`` shows Skip and Snooze."""

    prefix: ClassVar[str] = "dmore"
    event_id: int


@dataclass(frozen=True)
class UndoButton(CallbackData):
    """Undo a mis-tapped Taken or Skip: ``undo:<event id>:<answer id>``. The answer id names
    the press it takes back (``dose_answers``), so an old Undo cannot take back a later one."""

    prefix: ClassVar[str] = "undo"
    event_id: int
    answer_id: int


@dataclass(frozen=True)
class SimpleModeButton(CallbackData):
    """Simple mode on or off: ``simple:on`` / ``simple:off`` (/simple, later a /settings row)."""

    prefix: ClassVar[str] = "simple"
    choice: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ("on", "off"), "choice")


CHECKIN_QUESTIONS = ("stiffness", "drowsiness", "dizziness", "weakness", "nausea", "note")


@dataclass(frozen=True)
class CheckInButton(CallbackData):
    """An answer in a check-in: ``ci:<check-in id>:<question>:<value>`` (value "-" for Skip)."""

    prefix: ClassVar[str] = "ci"
    checkin_id: int
    question: str
    value: str

    def __post_init__(self) -> None:
        _one_of(self.question, CHECKIN_QUESTIONS, "question")
        if self.value != "-" and not (self.value.isdigit() and len(self.value) <= 2):
            raise ValueError("a check-in answer is a small number or '-'")


@dataclass(frozen=True)
class HoldButton(CallbackData):
    """After a check-in: ``hold:<check-in id>:<days>``; "0" is "carry on as planned" and
    "ask" opens the choice of days."""

    prefix: ClassVar[str] = "hold"
    checkin_id: int
    days: str

    def __post_init__(self) -> None:
        if self.days != "ask" and not (self.days.isdigit() and len(self.days) == 1):
            raise ValueError("hold days are one digit or 'ask'")


@dataclass(frozen=True)
class ConsentButton(CallbackData):
    """``consent:yes`` / ``consent:no`` at /start; ``consent:yes:ru`` once the patient has
    switched the welcome to another language (stored with the consent)."""

    prefix: ClassVar[str] = "consent"
    choice: str
    language: str = ""

    def __post_init__(self) -> None:
        _one_of(self.choice, ("yes", "no"), "choice")
        _language_code(self.language, allow_empty=True)


@dataclass(frozen=True)
class LanguageButton(CallbackData):
    """A language of the pack: ``lang:<code>`` (the handler checks the pack has it)."""

    prefix: ClassVar[str] = "lang"
    language: str

    def __post_init__(self) -> None:
        _language_code(self.language)


def _language_code(value: str, *, allow_empty: bool = False) -> None:
    if not (allow_empty and value == "") and re.fullmatch(r"[a-z]{2,3}", value) is None:
        raise ValueError("a language is a two- or three-letter code")


@dataclass(frozen=True)
class ZoneButton(CallbackData):
    """A common time zone: ``tz:<IANA name>`` (the handler checks that the zone exists)."""

    prefix: ClassVar[str] = "tz"
    zone: str


@dataclass(frozen=True)
class RegionButton(CallbackData):
    """A region for emergency numbers: ``region:<key>`` (checked against the pack)."""

    prefix: ClassVar[str] = "region"
    region: str


@dataclass(frozen=True)
class FactButton(CallbackData):
    """A quick-fact topic in the /facts menu: ``fact:<topic>``."""

    prefix: ClassVar[str] = "fact"
    topic: str


@dataclass(frozen=True)
class ScheduleButton(CallbackData):
    """A step of the guided /schedule: ``sched:<step>[:<value>]`` (a value may hold ":")."""

    prefix: ClassVar[str] = "sched"
    step: str
    value: str = ""


@dataclass(frozen=True)
class PlanButton(CallbackData):
    """Under a plan summary: ``plan:save``, ``plan:save_high`` (the prescriber set it), or
    ``plan:cancel``."""

    prefix: ClassVar[str] = "plan"
    decision: str

    def __post_init__(self) -> None:
        _one_of(self.decision, ("save", "save_high", "cancel"), "decision")


@dataclass(frozen=True)
class EraseButton(CallbackData):
    """/deleteme's confirmation: ``erase:<yes|no>:<nonce>``, bound to the offer it answers."""

    prefix: ClassVar[str] = "erase"
    choice: str
    nonce: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ("yes", "no"), "choice")
        if re.fullmatch(r"[0-9a-f]{16}", self.nonce) is None:
            raise ValueError("an erase nonce is 16 hex digits")


@dataclass(frozen=True)
class CaregiverButton(CallbackData):
    """/caregiver: ``cg:remove:<link id>`` (the patient), ``cg:leave:<link id>`` (the
    caregiver), ``cg:delay:<minutes>``. The handler checks the presser is that link's side."""

    prefix: ClassVar[str] = "cg"
    action: str
    number: int

    def __post_init__(self) -> None:
        _one_of(self.action, ("remove", "leave", "delay"), "action")


@dataclass(frozen=True)
class InviteButton(CallbackData):
    """Accept or decline an opened invite: ``cgi:<yes|no>:<token>``. The token is checked
    again on the press (it may have expired or been used since the link was opened)."""

    prefix: ClassVar[str] = "cgi"
    choice: str
    token: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ("yes", "no"), "choice")
        if re.fullmatch(r"[A-Za-z0-9_-]{20,56}", self.token) is None:
            raise ValueError("not an invite token")


ASK_CHOICES = ("unwell", "question", "doses", "missed", "today", "pause", "times")


@dataclass(frozen=True)
class AskButton(CallbackData):
    """A choice under a free-text answer: ``ask:<choice>``. ``unwell``, ``question`` and
    ``doses`` ask back when the bot is not sure what a message means (``doses`` then offers
    ``missed`` and ``today``); ``pause`` and ``times`` answer "stop or move the reminders"."""

    prefix: ClassVar[str] = "ask"
    choice: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ASK_CHOICES, "choice")


REPORT_FORMATS = ("pdf", "csv")
REPORT_PERIODS = ("plan", "4w", "all")


@dataclass(frozen=True)
class ReportButton(CallbackData):
    """The period of a /report: ``report:<pdf|csv>:<plan|4w|all>``."""

    prefix: ClassVar[str] = "report"
    format: str
    period: str

    def __post_init__(self) -> None:
        _one_of(self.format, REPORT_FORMATS, "format")
        _one_of(self.period, REPORT_PERIODS, "period")


@dataclass(frozen=True)
class SettingsButton(CallbackData):
    """A row of /settings: ``set:<row key>`` opens that setting's own flow (the handler checks
    the key against its table of rows)."""

    prefix: ClassVar[str] = "set"
    key: str

    def __post_init__(self) -> None:
        if re.fullmatch(r"[a-z_]{1,24}", self.key) is None:
            raise ValueError("a settings row is a short lower-case key")


@dataclass(frozen=True)
class RepeatButton(CallbackData):
    """How unanswered reminders repeat: ``rep:<minutes>``, 0 for once with one follow-up."""

    prefix: ClassVar[str] = "rep"
    minutes: int

    def __post_init__(self) -> None:
        if not valid_choice(self.minutes):
            raise ValueError(f"repeats are one of {REPEAT_CHOICES} minutes")


@dataclass(frozen=True)
class AnnouncementsButton(CallbackData):
    """Clinic news on or off: ``ann:on`` / ``ann:off`` (dose reminders are never affected)."""

    prefix: ClassVar[str] = "ann"
    choice: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ("on", "off"), "choice")


TRAVEL_ACTIONS = ("where", "choose", "save", "cancel")
TRAVEL_CHOICES = ("home", "gradual", "at_once")


@dataclass(frozen=True)
class TravelButton(CallbackData):
    """A trip across time zones: ``trv:where`` ("I am travelling": asks where),
    ``trv:choose:<choice>:<zone>`` (shows the next doses), ``trv:save:<choice>:<zone>``,
    ``trv:cancel``. The zone is an IANA name (the handler checks it exists)."""

    prefix: ClassVar[str] = "trv"
    action: str
    choice: str = ""
    zone: str = ""

    def __post_init__(self) -> None:
        _one_of(self.action, TRAVEL_ACTIONS, "action")
        if self.action in ("choose", "save"):
            _one_of(self.choice, TRAVEL_CHOICES, "choice")
            if not self.zone:
                raise ValueError("a travel choice names its zone")
        elif self.choice or self.zone:
            raise ValueError("only a choice carries a zone")


@dataclass(frozen=True)
class PumpButton(CallbackData):
    """Pump mode on or off: ``pump:on`` / ``pump:off`` (/pump, issue 21)."""

    prefix: ClassVar[str] = "pump"
    choice: str

    def __post_init__(self) -> None:
        _one_of(self.choice, ("on", "off"), "choice")


@dataclass(frozen=True)
class RefillDoneButton(CallbackData):
    """ "Refill done" for the refill of a date: ``pumprf:2027-04-05`` (issue 21)."""

    prefix: ClassVar[str] = "pumprf"
    refill_on: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.refill_on):
            raise ValueError("a refill date is YYYY-MM-DD")


SUPPLY_ACTIONS = ("form", "str", "sc", "ord", "ref", "cnt", "new", "show")


@dataclass(frozen=True)
class SupplyButton(CallbackData):
    """/supply (issue 21): ``sup:form:tablet|liquid``, ``sup:str:tablet:<mg>`` or
    ``sup:str:liquid:<mg per 5 mL>|-`` (strength unknown), ``sup:sc:<mg>:1|0`` (scored?),
    ``sup:ord`` (I ordered), ``sup:ref`` (I got a refill), ``sup:cnt`` (recount), ``sup:new``
    (change the product), ``sup:show``."""

    prefix: ClassVar[str] = "sup"
    action: str
    value: str = ""

    def __post_init__(self) -> None:
        _one_of(self.action, SUPPLY_ACTIONS, "action")
        if self.action in ("form", "str", "sc") and not self.value:
            raise ValueError("this supply button carries a value")
        if len(self.value) > 24:
            raise ValueError("supply value too long")


# An admin's buttons (refused for anyone not in ADMIN_IDS): a broadcast draft's segment, send
# and discard; a running broadcast's cancel; a content reload's announcement.
AdminVerb = Literal["seg", "send", "drop", "stop", "announce"]
ADMIN_VERBS: tuple[AdminVerb, ...] = get_args(AdminVerb)
BROADCAST_SEGMENTS = tuple(segment.value for segment in Segment)


@dataclass(frozen=True)
class AdminButton(CallbackData):
    """``adm:seg:<broadcast>:<segment>``, ``adm:send|drop|stop:<broadcast>``,
    ``adm:announce:<reload>``. :meth:`of` is the handler filter of one verb, so each verb keeps
    its own audited action."""

    prefix: ClassVar[str] = "adm"
    verb: str
    number: int
    segment: str = ""

    def __post_init__(self) -> None:
        _one_of(self.verb, ADMIN_VERBS, "verb")
        if (self.verb == "seg") != bool(self.segment):
            raise ValueError("only a segment button carries a segment")
        if self.segment:
            _one_of(self.segment, BROADCAST_SEGMENTS, "segment")

    @classmethod
    def of(cls, verb: AdminVerb) -> Callable[[object], bool]:
        """A CallbackQueryHandler pattern: exactly a well-formed button of ``verb``."""

        def matches(data: object) -> bool:
            button = cls.unpack(data) if isinstance(data, str) else None
            return button is not None and button.verb == verb

        return matches
