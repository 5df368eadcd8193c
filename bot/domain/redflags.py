"""Recognising free text that needs an emergency answer or the do-not-stop guidance.

Deliberately broad: a false alarm costs the user one extra line with an emergency number,
a missed alarm could cost far more. Negations ("no seizure") still match on purpose.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    EMERGENCY = "emergency"
    WANTS_TO_STOP = "wants_to_stop"
    OTHER = "other"


_EMERGENCY = re.compile(
    r"""
    seiz|convuls|\bfits?\b|\bfitting\b
    | (can'?t|cannot|can\s+not|trouble|difficult\w*|hard|struggl\w*)\s+(to\s+)?breath
    | (not|stopped|isn'?t|is\s+not)\s+breathing | short(ness)?\s+of\s+breath
    | breathing\s+(is\s+)?(slow|shallow|weak)
    | too\s+(many|much)\s+(pills?|tablets?|doses?|baclofen)? | overdos | double\s+dose
    | took\s+(all|extra|two\s+doses)
    | (can'?t|cannot|can\s+not|won'?t|will\s+not)\s+(\w+\s+)?wake | unresponsive | unconscious
    | hallucinat | seeing\s+things | hearing\s+voices
    | chest\s+pain | pain\s+in\s+(my|the|his|her)\s+chest
    | faint | passed\s+out | collaps
    | self[-\s]?harm | suicid | kill\s+(my|him|her)self | end\s+(my|it\s+all)
    | hurt\s+myself | want\s+to\s+die
    | (face|lips?|tongue|throat)\s+(is\s+|are\s+)?swell
    | swelling\s+of\s+(the\s+)?(face|lips?|throat)
    | high\s+fever
    """,
    re.IGNORECASE | re.VERBOSE,
)

_STOP = re.compile(
    r"""
    \b(stop|stopping|quit|quitting|come\s+off|coming\s+off|get\s+off|getting\s+off|give\s+up)\b
    \s+(taking\s+|using\s+)?(the\s+|my\s+)?
    (baclofen|it|this|medication|medicine|meds|pills?|tablets?|treatment|lioresal)
    | \bno\s+(more|longer\s+take)\s+baclofen
    """,
    re.IGNORECASE | re.VERBOSE,
)


def classify(text: str) -> Intent:
    """Emergency wins over everything else; then the wish to stop; then nothing special."""
    if _EMERGENCY.search(text):
        return Intent.EMERGENCY
    if _STOP.search(text):
        return Intent.WANTS_TO_STOP
    return Intent.OTHER
