"""A headless Chromium driven over the Chrome DevTools Protocol (a websocket), for page tests.

Only the few protocol calls the demo tests need: open a page, run JavaScript, click with the
mouse where an element is, type, take a screenshot. Chromium comes from the system's packages
(``apt-get install chromium``); without one the tests that need it are skipped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType

BROWSER = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)
NO_BROWSER = (
    "no Chromium on this machine: install it (apt-get install chromium) to run the browser "
    "tests; .ci/run does"
)


class BrowserError(AssertionError):
    pass


class Page:
    """One browser tab."""

    def __init__(self, socket: ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            if message.type != WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(BrowserError("the browser closed the connection"))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        await self._socket.send_json({"id": number, "method": method, "params": params})
        async with asyncio.timeout(30):
            answer = await future
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float = 15.0) -> Any:  # noqa: ASYNC109
        """Poll ``expression`` until it is truthy; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                text = await self.evaluate("document.getElementById('messages').innerText")
                raise BrowserError(f"timed out waiting for {expression}; chat shows:\n{text}")
            await asyncio.sleep(0.1)

    async def goto(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def click(self, selector: str, text: str = "") -> None:
        """Click with the mouse on the last element matching ``selector`` that contains ``text``
        (the newest message's button, when several messages have one)."""
        found = await self.wait_for(
            f"""(() => {{
                const all = [...document.querySelectorAll({json.dumps(selector)})]
                    .filter(e => e.textContent.includes({json.dumps(text)}) && !e.disabled);
                const e = all[all.length - 1];
                if (!e) return null;
                e.scrollIntoView({{block: "center", behavior: "instant"}});
                const r = e.getBoundingClientRect();
                const x = r.x + r.width / 2, y = r.y + r.height / 2;
                // A list that is being drawn again (the menu, when the commands of the chat's
                // language arrive) may put another element there: wait until it is this one.
                const hit = document.elementFromPoint(x, y);
                if (!hit || !(hit === e || e.contains(hit))) return null;
                return [x, y];
            }})()"""
        )
        x, y = found
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def type_and_send(self, text: str) -> None:
        await self.click("#text")
        await self.call("Input.insertText", text=text)
        await self.click("#send")

    async def screenshot(self) -> bytes:
        """The visible page as PNG bytes."""
        await asyncio.sleep(0.3)  # let the last render and scroll settle
        shot = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])

    async def close(self) -> None:
        await self._socket.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _arguments(profile: Path, width: int, height: int) -> list[str]:
    arguments = [
        "--headless=new",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-gpu",
        "--disable-dev-shm-usage",  # containers have a small /dev/shm
        "--disable-extensions",
        "--disable-background-networking",  # nothing leaves the machine, not even the browser's
        "--disable-component-update",
        "about:blank",
    ]
    if os.geteuid() == 0:  # CI runs as root, where Chromium refuses its sandbox
        arguments.insert(0, "--no-sandbox")
    return arguments


async def _devtools_endpoint(stderr: asyncio.StreamReader) -> str:
    """The http:// address Chromium says it listens on (within 30 seconds)."""
    endpoint = None
    async with asyncio.timeout(30):
        while endpoint is None:
            line = (await stderr.readline()).decode(errors="replace")
            if not line:
                raise BrowserError("Chromium exited before it listened")
            match = re.search(r"DevTools listening on (ws://[^/]+)/", line)
            endpoint = match.group(1).replace("ws://", "http://") if match else None
    return endpoint


async def _set_up(page: Page, width: int, height: int) -> None:
    await page.call("Page.enable")
    await page.call("Runtime.enable")
    # The same size for every screenshot, whatever the window manager makes of it.
    await page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def open_browser(profile: Path, width: int = 1280, height: int = 800) -> AsyncIterator[Page]:
    """Start headless Chromium with a throwaway profile and yield its first tab."""
    assert BROWSER is not None, NO_BROWSER
    process = await asyncio.create_subprocess_exec(
        BROWSER,
        *_arguments(profile, width, height),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        endpoint = await _devtools_endpoint(process.stderr)
        # Keep reading its chatter so a full pipe never stalls the browser.
        drain = asyncio.create_task(_drain(process.stderr))
        async with ClientSession() as session:
            async with session.get(f"{endpoint}/json/list") as response:
                targets = await response.json(content_type=None)
            page_target = next(target for target in targets if target["type"] == "page")
            socket = await session.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0)
            page = Page(socket)
            try:
                await _set_up(page, width, height)
                yield page
            finally:
                await page.close()
        drain.cancel()
    finally:
        await _stop(process)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
