"""Webhook ingest: signed inbound SMS per second through gunicorn, stored in PostgreSQL and
enqueued on Redis, under concurrent load from wrk. Prints a table.

Needs PostgreSQL and Redis on 127.0.0.1 (GRIDLINE_BENCH_* to change) and wrk (apt-get install wrk).
Usage: python bench/ingest.py [--duration 10] [--connections 32]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlencode

import redis
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from common import (AUTH_TOKEN, DATABASE_URL, REDIS_URL, REPORTS, bench_phone, env, free_port, gunicorn, processes,
                    reset_database, table, wait_http)

LUA = """
local reqs = dofile("%(data)s")
local n = #reqs
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  idx = tid
end
function request()
  local r = reqs[(idx %% n) + 1]
  idx = idx + %(threads)d
  return wrk.format("POST", "/twilio/sms", {["Content-Type"] = "application/x-www-form-urlencoded",
                    ["X-Twilio-Signature"] = r[2]}, r[1])
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_requests(port: int, count: int, folder: Path) -> Path:
    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}/twilio/sms"
    lines = ["return {"]
    for i in range(count):
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": bench_phone(i % 5000),
                  "To": "+8610690012345", "Body": REPORTS[i % len(REPORTS)], "NumMedia": "0", "NumSegments": "1",
                  "ApiVersion": "2010-04-01"}
        lines.append("{%s,%s}," % (lua_string(urlencode(params)), lua_string(validator.compute_signature(url, params))))
    lines.append("}")
    data = folder / "requests.lua"
    data.write_text("\n".join(lines), encoding="utf-8")
    return data


def parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", output, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50": ms(lat["50"]), "p90": ms(lat["90"]), "p99": ms(lat["99"]),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "0",
    }


def run(config: dict, duration: int, connections: int) -> dict:
    reset_database(residents=0)
    port = free_port()
    threads = 2
    with tempfile.TemporaryDirectory() as tmp:
        data = make_requests(port, 40000, Path(tmp))
        script = Path(tmp) / "ingest.lua"
        script.write_text(LUA % {"data": data, "threads": threads})
        with processes(gunicorn(port, config["workers"], config["class"], config.get("threads", 1)),
                       environ=env(GRIDLINE_INSTANCE_PATH=tmp)):
            wait_http(port)
            subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", "3s", "-s", str(script),
                            f"http://127.0.0.1:{port}/twilio/sms"], capture_output=True, check=True)  # warm-up
            reset_database(residents=0)
            out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                                  "--latency", "-s", str(script), f"http://127.0.0.1:{port}/twilio/sms"],
                                 capture_output=True, text=True, check=True).stdout
    result = parse_wrk(out)
    engine = sa.create_engine(DATABASE_URL)
    with engine.connect() as conn:
        result["stored"] = conn.execute(sa.text("SELECT count(*) FROM inbound_messages")).scalar()
    engine.dispose()
    from workers.inbox import PENDING

    result["queued"] = redis.Redis.from_url(REDIS_URL).llen(PENDING)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    configs = [
        ({"name": "gunicorn sync x2", "class": "sync", "workers": 2}, args.connections),
        ({"name": "gunicorn gthread 2x4", "class": "gthread", "workers": 2, "threads": 4}, args.connections),
        ({"name": "gunicorn gthread 2x4", "class": "gthread", "workers": 2, "threads": 4}, 8),
        ({"name": "gunicorn gthread 3x4", "class": "gthread", "workers": 3, "threads": 4}, args.connections),
    ]
    rows = []
    for config, connections in configs:
        r = run(config, args.duration, connections)
        rows.append([config["name"], connections, f"{r['rps']:.0f}", f"{r['p50']:.1f}", f"{r['p90']:.1f}",
                     f"{r['p99']:.1f}", r["non2xx"], r["socket_errors"], r["stored"], r["queued"]])
    print(f"\nWebhook ingest: signed POST /twilio/sms -> PostgreSQL insert + Redis inbox push ({args.duration}s per row)")
    print(table(["server", "conns", "SMS/s", "p50 ms", "p90 ms", "p99 ms", "non-2xx", "socket errors",
                 "stored", "in inbox"], rows))


if __name__ == "__main__":
    main()
