"""Several processes answering on one port: a parent that listens and watches, children that serve.

The model is pre-fork, as gunicorn's: the parent binds the port (one socket per address family)
before anything else, then forks the workers, before it has started an event loop, a thread pool
or a model. Each worker is the whole app (its own event loop, its own model and index, read
through the index cache). The first worker loads alone, so that an empty cache is embedded once;
the others start when it is ready and read what it wrote.

How connections reach the workers, two ways, measured (benchmarks/slack_scale.py, 2 cores, nginx
opening 600 connections at once):

- `SO_REUSEPORT` (the default): each worker listens on a socket of its own on the same port and
  the kernel spreads new connections over them by a hash of their addresses. Even: with 2 workers
  5.9 and 5.6 CPU seconds each, 1.51x the answers per second of one process; with 4, 2.6 to 3.1
  each. A busy worker still gets its share, and a worker's queued connections are reset if it
  dies (nginx then tries the next upstream).
- One shared socket (`reuse_port=False`, or $POLICY_QA_REUSE_PORT=0): every worker waits in
  accept on the same socket, and each wake-up of asyncio's accept loop takes up to a backlog's
  worth at once, so under a burst whoever wakes first takes most: 7.4 and 4.3 CPU seconds (1.47x);
  with 4, 2.2 to 3.6. It would favour an idle worker for sparse traffic, but that is when balance
  matters least.

Either way a connection stays with the worker that accepted it: behind a proxy that keeps
connections open (nginx's keepalive) the spread is decided when the connections are made.

The parent forwards SIGTERM and SIGINT to every worker, which finish what they are answering and
exit, then exits itself. A worker killed by a signal (a crash, the OOM killer) is replaced; one
that exits by itself (a rejected token, documents that cannot be loaded) stops the others, and
its exit code is the parent's, since every worker would meet the same fate.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

__all__ = ["listening_sockets", "serve_workers"]

log = logging.getLogger(__name__)

EXIT_ERROR = 1
# Connections the kernel queues for the workers to accept (asyncio's default is 100, aiohttp's
# 128): a proxy that opens hundreds at once would otherwise find the queue full, its SYNs dropped
# and retried a second later, past nginx's 0.5 s connect timeout (measured: 504s for 282 of 600).
BACKLOG = 1024
MAX_RESTARTS, RESTART_WINDOW_SECONDS = 5, 60.0  # more crashes than this: something is wrong

T = TypeVar("T")


def listening_sockets(
    host: str | None, port: int, *, reuse_port: bool = False, listen: bool = True
) -> list[socket.socket]:
    """Bound TCP sockets for `host` (None: every interface, IPv4 and IPv6) and `port`, listening
    unless told not to; with `reuse_port`, others may bind the same port too."""
    sockets: list[socket.socket] = []
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    for family, kind, proto, _, address in dict.fromkeys(infos):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # else [::] would also claim IPv4's port
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            # with port 0, every family must get the port the first one got
            sock.bind(
                address if not sockets else (address[0], sockets[0].getsockname()[1], *address[2:])
            )
            if listen:
                sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            if family == socket.AF_INET6 and host is None:
                continue  # no IPv6 on this machine: IPv4 alone will do
            for done in sockets:
                done.close()
            raise
        sockets.append(sock)
    return sockets


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the parent dies, however it dies (else it runs on)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def serve_workers(
    serve: Callable[..., int],
    load: Callable[[], T],
    host: str | None,
    port: int,
    workers: int,
    *,
    reuse_port: bool | None = None,
) -> int:
    """Run `serve(load, sockets=[...])` (which returns an exit code) in `workers` processes
    answering on `host`:`port` until SIGTERM or SIGINT; returns an exit code. See the module's
    docstring for the model."""
    if reuse_port is None:
        reuse_port = os.environ.get("POLICY_QA_REUSE_PORT", "").strip() != "0"
    try:
        shared = listening_sockets(host, port, reuse_port=reuse_port, listen=not reuse_port)
    except OSError as e:
        print(f"policy-qa: cannot listen on port {port}: {e.strerror or e}", file=sys.stderr)
        return EXIT_ERROR
    children: dict[int, int] = {}  # pid: worker number
    stopping, code = False, 0
    restarts: list[float] = []  # when crashed workers were replaced

    def spawn(number: int, loaded_fd: int | None) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            log.info("Started worker %d (pid %d)", number, pid)
            return pid
        status = EXIT_ERROR
        try:  # the worker: never returns into the parent's code
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _die_with_parent()
            sockets = shared
            if reuse_port:  # a socket of its own on the parent's port, in the kernel's group
                sockets = listening_sockets(host, shared[0].getsockname()[1], reuse_port=True)

            def load_and_say() -> Any:
                loaded = load()
                if loaded_fd is not None:  # the parent may start the others now
                    with contextlib.suppress(OSError):
                        os.write(loaded_fd, b"1")
                        os.close(loaded_fd)
                return loaded

            status = serve(load_and_say, sockets=sockets)
        except BaseException:
            log.exception("Worker %d failed", number)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            log.info("Stopping %d workers (%s)", len(children), signal.Signals(signum).name)
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The first worker alone until its documents are loaded: with an empty cache, N workers
    # would each embed every document at once.
    read_fd, write_fd = os.pipe()
    children[spawn(1, write_fd)] = 1
    os.close(write_fd)
    first_loaded = b""
    with contextlib.suppress(OSError):
        first_loaded = os.read(read_fd, 1)  # its "loaded", or nothing when it exits first
    os.close(read_fd)
    for number in range(2, workers + 1):
        if first_loaded and not stopping:
            children[spawn(number, None)] = number
    where = ", ".join(f"{s.getsockname()[0]}:{s.getsockname()[1]}" for s in shared)
    print(f"policy-qa: {len(children)} workers answering on {where} (pids "
          f"{', '.join(map(str, children))})", file=sys.stderr, flush=True)  # fmt: skip
    while children:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        number = children.pop(pid)
        exit_code = os.waitstatus_to_exitcode(wait_status)
        log.info("Worker %d (pid %d) exited (%d)", number, pid, exit_code)
        if stopping:
            code = code or max(exit_code, 0)
            continue
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < RESTART_WINDOW_SECONDS]
        if exit_code <= 0 and len(restarts) < MAX_RESTARTS:  # killed, or stopped alone
            how = f"killed by {signal.Signals(-exit_code).name}" if exit_code else "stopped"
            log.warning("Worker %d (pid %d) %s; starting another", number, pid, how)
            restarts.append(now)
            children[spawn(number, None)] = number
            continue
        if exit_code <= 0:
            log.error("Workers keep dying (%d in %.0f s); stopping", MAX_RESTARTS + 1,
                      RESTART_WINDOW_SECONDS)  # fmt: skip
        code = exit_code if exit_code > 0 else EXIT_ERROR
        stop(signal.SIGTERM, None)  # the others would meet the same fate
    for sock in shared:
        sock.close()
    return code
