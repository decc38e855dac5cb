"""Running the Slack app: HTTP (one process or several workers) or Socket Mode, until stopped.

Reads SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode), PORT,
the knowledge sets file (adapters/knowledge_sets.py) and the records settings
(assistant/records/settings.py); `adapters.slack_app.serve` is this module's `serve`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError

from adapters.knowledge_sets import KnowledgeSets, Loader, SetsConfig, find_config, load_sets
from adapters.slack_app import _web_client, create_app
from adapters.slack_http import WebRunner, create_web_app
from adapters.slack_web_api import BotIdentity, cannot_reach, describe
from adapters.state import SharedState, state_from_env
from adapters.workers import BACKLOG
from assistant import KnowledgeError, PolicyQAError
from assistant.errors import ConfigurationError
from assistant.records import Recorder, open_recorder
from assistant.status import Status

__all__ = ["serve"]

log = logging.getLogger(__name__)

EXIT_ERROR, EXIT_KNOWLEDGE, EXIT_CONFIG = 1, 3, 4


def _load_into(
    load: Loader,
    config: SetsConfig | None,
    future: concurrent.futures.Future[KnowledgeSets],
    status: Status | None,
) -> None:
    try:
        sets = load_sets(config, load)
        if status is not None and sets.several:  # /healthz counts every set's documents
            loaded = {id(a): a for a in sets.assistants.values()}.values()
            status.ready(sum(len(a.documents) for a in loaded), sum(len(a.index) for a in loaded))
        future.set_result(sets)
        log.info("Model and documents loaded")
    except BaseException as e:  # handed to the serving loop, which says why and exits
        future.set_exception(e)


def serve(
    load: Loader,
    socket_mode: bool = False,
    *,
    host: str | None = None,
    port: int | None = None,
    status: Status | None = None,
    workers: int = 1,
    sockets: list[Any] | None = None,
    config: str | Path | None = None,
) -> int:
    """Run the Slack app until interrupted: HTTP on `host` (default: every interface) and `port`
    (default: $PORT, else 3000), or Socket Mode. `status` is what /healthz reports while the
    documents load. `workers` > 1: that many processes answer on the one port (HTTP only; see
    adapters/workers.py). `config`: the knowledge sets file (else $POLICY_QA_CONFIG, else
    ./policy-qa.toml if there is one); `load(folder, embedder=...)` loads each set, `load()` the
    command's own folder. Returns an exit code."""
    needed = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        print(f"policy-qa: set {' and '.join(missing)} (see docs/slack.md)", file=sys.stderr)
        return EXIT_CONFIG
    raw_port = os.environ.get("PORT", "").strip()
    if port is None and raw_port and not (raw_port.isascii() and raw_port.isdigit()
                                          and int(raw_port) < 65536):  # fmt: skip
        print(f"policy-qa: PORT must be a port number, not {raw_port!r}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        sets_config = find_config(config)  # a bad file stops every worker before any starts
    except ConfigurationError as e:
        print(f"policy-qa: {e}", file=sys.stderr)
        return EXIT_CONFIG
    if workers > 1 and not socket_mode:
        from adapters.workers import serve_workers  # only the parent of workers needs it

        worker = partial(serve, host=host, port=port, status=status, config=config)
        return serve_workers(worker, load, host, port or int(raw_port or 3000), workers)
    try:
        return asyncio.run(_serve(load, socket_mode, host, port, status, sockets, sets_config))
    except KeyboardInterrupt:
        return 0


async def _serve(
    load: Loader,
    socket_mode: bool,
    host: str | None,
    port: int | None,
    status: Status | None,
    sockets: list[Any] | None = None,
    sets_config: SetsConfig | None = None,
) -> int:
    try:
        recorder = open_recorder()
    except ConfigurationError as e:
        print(f"policy-qa: {e}", file=sys.stderr)
        return EXIT_CONFIG
    future: concurrent.futures.Future[KnowledgeSets] = concurrent.futures.Future()
    client = _web_client()
    secret = os.environ.get("SLACK_SIGNING_SECRET")
    identity = BotIdentity(client)
    state = state_from_env()
    log.info("Events seen and rate limits are kept in %s", getattr(state, "where", "memory"))
    app = create_app(
        future, client, signing_secret=secret, identity=identity, state=state, recorder=recorder
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or Windows: Ctrl-C still ends the process
    if socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        started: Any = AsyncSocketModeHandler(app, os.environ["SLACK_APP_TOKEN"])
        where = "Socket Mode"
    else:
        if port is None:
            port = int(os.environ.get("PORT") or 3000)
        web_app = create_web_app(app, future, secret or "", status=status)
        started = WebRunner(web_app, access_log=None)
        await started.setup()
        for sock in sockets or []:  # a worker of several, on sockets its parent listens on
            await web.SockSite(started, sock, backlog=BACKLOG).start()
        if not sockets:  # listen first (Slack's 3 s), with the workers' backlog, not 128
            await web.TCPSite(started, host=host, port=port, backlog=BACKLOG).start()
        # each address: with $PORT 0, IPv4 and IPv6 get a free port each
        urls = [f"http://{a[0]}:{a[1]}" if "." in a[0] else f"http://[{a[0]}]:{a[1]}"
                for a in started.addresses]  # fmt: skip
        where = f"{' and '.join(urls)} (POST /slack/events, GET /healthz)"
    threading.Thread(
        target=_load_into, args=(load, sets_config, future, status), name="load-assistant",
        daemon=True,
    ).start()  # fmt: skip
    retrying: asyncio.Task[None] | None = None
    try:
        await identity.look_up()  # once; every request then uses what it found
        if socket_mode:
            await started.connect_async()
    except (SlackApiError, aiohttp.ClientError, OSError) as e:
        if isinstance(e, SlackApiError) and not cannot_reach(e):
            # exit rather than crash-loop on a revoked or mistyped token
            print(
                f"policy-qa: Slack rejected the token ({e.response.get('error')})", file=sys.stderr
            )
            await _stop(started, state, recorder)
            return EXIT_CONFIG
        if socket_mode:
            print(f"policy-qa: cannot reach Slack ({type(e).__name__})", file=sys.stderr)
            await _stop(started, state, recorder)
            return EXIT_ERROR
        # HTTP mode: keep acking (and /healthz up); the look-up goes on with backoff
        log.warning("Cannot reach Slack to look up the bot (%s); serving anyway and retrying "
                    "in the background", describe(e))  # fmt: skip
        retrying = asyncio.ensure_future(identity.keep_looking_up())
        retrying.add_done_callback(lambda _: stop.set() if identity.rejected else None)
    print(f"policy-qa: Slack app running on {where}; loading the documents…", file=sys.stderr)
    loaded: asyncio.Future[Any] = asyncio.wrap_future(future)
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    await asyncio.wait([loaded, stopped], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if identity.rejected is not None:  # found by the background look-up
        print(f"policy-qa: Slack rejected the token ({identity.rejected})", file=sys.stderr)
        code = EXIT_CONFIG
    elif loaded.done() and loaded.exception() is not None:
        error = loaded.exception()
        if isinstance(error, PolicyQAError):  # the user's to fix: the message says how
            print(f"policy-qa: {error}", file=sys.stderr)
        else:
            log.error("Loading the assistant failed", exc_info=error)
            print(
                "policy-qa: loading the documents failed; the log above says why", file=sys.stderr
            )
        code = EXIT_KNOWLEDGE if isinstance(error, KnowledgeError) else EXIT_ERROR
    else:
        await stopped
    stopped.cancel()
    if retrying is not None:
        retrying.cancel()
    await _stop(started, state, recorder)
    return code


async def _stop(started: Any, state: SharedState, recorder: Recorder) -> None:
    if isinstance(started, web.AppRunner):
        await started.cleanup()
    else:
        await started.close_async()
    await state.close()
    await asyncio.to_thread(recorder.close)  # writes what is queued, 5 s at most
