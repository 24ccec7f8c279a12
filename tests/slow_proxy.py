"""A TCP proxy on loopback in front of a real server that turns slow on purpose: after the first
`fast_bytes` the server sends, it passes on one byte every `every` seconds (a trickle that no
per-read timeout ends). Started and stopped by the tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class SlowProxy:
    def __init__(self, target_port: int, fast_bytes: int = 0, every: float = 0.5):
        self.target_port, self.fast_bytes, self.every = target_port, fast_bytes, every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.connections: list[socket.socket] = []
        self.passed = 0  # bytes the server sent, over all connections
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, self.fast_bytes), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, fast: int | None) -> None:
        passed = 0
        with contextlib.suppress(OSError):
            while not self.stopped.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if fast is None:
                    sink.sendall(data)
                    continue
                if passed + len(data) <= fast:
                    sink.sendall(data)
                    passed += len(data)
                    self.passed += len(data)
                    continue
                for byte in data:
                    if passed >= fast:
                        time.sleep(self.every)
                        if self.stopped.is_set():
                            return
                    sink.sendall(bytes([byte]))
                    passed += 1
                    self.passed += 1
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()
