"""Files the bot uploads, asked for and read back: the /report choice pressed, the PDF's text."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from tests.conftest import RunningBot


async def request_file(
    bot: RunningBot, user: int, command: str, button: str, method: str
) -> tuple[str, Any]:
    """``command`` from ``user``, then ``button`` on its reply; the reply's text and the upload
    (the ``method`` call) that followed, which must have succeeded."""
    before = len(bot.api.calls_of(method))
    [choice] = await bot.say(user, command)
    message = bot.last_message(user)
    await bot.press(user, message["message_id"], bot.buttons(message)[button])
    [call] = (await bot.api.wait_for(method, count=before + 1, timeout=60))[before:]
    assert call.status == 200, call
    return choice, call


def pdf_text(content: bytes) -> tuple[int, str]:
    """The number of pages and the text of a PDF, white space folded."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


async def report_text(bot: RunningBot, user: int, period: str = "Last 4 weeks") -> str:
    """The text of the PDF /report sends for ``period``."""
    _, call = await request_file(bot, user, "/report", period, "sendDocument")
    return pdf_text(call.params["document"]["content"])[1]
