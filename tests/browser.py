"""A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: no port, no extra
package), for pages that need a login: the cookies of a session are set before the page is opened."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence


class _Pipe:
    """DevTools messages: JSON, each ended by a NUL byte; fd 3 of the browser reads them, fd 4 writes."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self.to_browser, self.from_browser, self.buffer, self.next_id = to_browser, from_browser, b"", 0

    def call(self, method: str, session: str | None = None, **params: object) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                raise RuntimeError("the browser closed its DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def _above_4(fd: int) -> int:
    """The same pipe end on a descriptor above 4, so that moving the ends to 3 and 4 never overwrites one."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def render(prefix: Sequence[str], chromium: str, url: str, cookies: Mapping[str, str], ready: str,
           profile: str, wait: float = 60) -> tuple[str, bool]:
    """The DOM of `url` opened with `cookies` (for `url`'s site), once the JavaScript `ready` is true or `wait`
    seconds have passed: (the page's HTML, whether `ready` became true). `prefix` runs the browser (a namespace)."""
    to_browser, browser_in = map(_above_4, os.pipe())
    browser_out, from_browser = map(_above_4, os.pipe())

    def fds_3_and_4() -> None:
        os.dup2(to_browser, 3)
        os.dup2(from_browser, 4)

    browser = subprocess.Popen(
        [*prefix, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
         "--remote-debugging-pipe", "about:blank"],
        preexec_fn=fds_3_and_4, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_browser)
    os.close(from_browser)
    try:
        pipe = _Pipe(browser_in, browser_out)
        pipe.call("Storage.setCookies", cookies=[{"name": k, "value": v, "url": url} for k, v in cookies.items()])
        target = pipe.call("Target.createTarget", url=url)["targetId"]
        session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        deadline, done = time.monotonic() + wait, False
        while not done and time.monotonic() < deadline:
            done = bool(pipe.call("Runtime.evaluate", session, expression=ready, returnByValue=True)["result"]
                        .get("value"))
            time.sleep(0 if done else 0.25)
        html = pipe.call("Runtime.evaluate", session, expression="document.documentElement.outerHTML",
                         returnByValue=True)["result"]["value"]
        return html, done
    finally:
        browser.kill()
        browser.wait(timeout=30)
        os.close(browser_in)
        os.close(browser_out)
