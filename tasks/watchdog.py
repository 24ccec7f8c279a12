"""One deadline for a whole conversation with a server, however it trickles. A per-read timeout
(socket, requests, imaplib) restarts at every byte: a server sending one byte every few seconds
holds the caller for ever. The watchdog shuts the conversation's sockets when the deadline comes,
and the blocked read returns at once with an error the caller recognises by `fired`."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable


class Deadline:
    """The one instant by which a piece of work (every step of it) must be done."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self.end = clock() + seconds

    def left(self) -> float:
        return max(0.0, self.end - self._clock())


class Watchdog:
    """Shuts the sockets it was shown when the deadline comes. It keeps a duplicate of each
    socket's descriptor: wrapping a socket in TLS detaches the original object, but a shutdown
    through the duplicate still ends the one connection both name."""

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline.left(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock.dup())
            if self.fired:
                _shut(self._sockets[-1])
        return sock

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
