"""Server processes for the benchmarks that run a real server: a free port, and a stop that lets
the server shut down cleanly but never waits for ever."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to the server's process group (started with ``start_new_session=True``), then
    SIGKILL if it has not exited within 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
