"""``python -m app``: one uvicorn worker on the app factory, with a drain-aware shutdown."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import socket
import threading
from typing import Any

import uvicorn

from .main import create_app
from .settings import Settings

# After the drain deadline, time for the 503s of unfinished work to go out before uvicorn gives up
# on open requests (it would cancel them: a bare 500 to each caller).
ANSWER_MARGIN_S = 5


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT, mark the app draining first (``/readyz`` answers 503, new scoring work
    gets 503), then let uvicorn stop accepting and finish in-flight requests, for up to
    ``REWARDGATE_DRAIN_TIMEOUT_S``; what is unfinished then is answered 503 ``shutting_down``."""

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app
        self._drain: asyncio.Task[None] | None = None

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn waits for open requests before it runs the app's own shutdown: the drain clock
        # starts here, when the listener closes, so the deadline passes while callers still wait
        st = self._app.state.rewardgate
        self._drain = asyncio.create_task(st.batcher.drain(st.settings.drain_timeout_s), name="rewardgate-drain")
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        st = self._app.state.rewardgate
        if st.draining:  # a second signal: stop now
            super().handle_exit(sig, frame)
            return
        st.draining = True
        grace = st.settings.shutdown_grace_s
        logging.getLogger("rewardgate").info("draining: /readyz is 503; stopping in %.1fs", grace)
        if grace > 0:
            # keep accepting briefly so load balancers see /readyz 503 and stop routing here
            timer = threading.Timer(grace, super().handle_exit, (sig, frame))
            timer.daemon = True
            timer.start()
        else:
            super().handle_exit(sig, frame)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="Serve the rewardgate API.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        log_level=settings.log_level,
        timeout_graceful_shutdown=math.ceil(settings.drain_timeout_s) + ANSWER_MARGIN_S,
        access_log=False,
    )  # access logs are metrics' job; no user text in logs
    # uvicorn re-raises the signal it caught once it has shut down; with the default handler in
    # place that would kill the process (exit -15) after a clean drain. A no-op handler lets
    # main() return, so a graceful stop exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    DrainingServer(config, app).run()


if __name__ == "__main__":
    main()
