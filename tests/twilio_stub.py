"""A local HTTP server that answers like api.twilio.com's Messages endpoint, with scripted
failures. It is the outside edge of the tests: nothing else is mocked."""
from __future__ import annotations

import json
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class TwilioStub:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # responses to give next, then 201 created
        self.messages: list[dict] = []  # what "Twilio" took, newest last (GET lists them newest first)
        self.hold = threading.Event()   # set: take the message, then never answer (a call cut short)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                stub.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                if stub.script:
                    status, body = stub.script.pop(0)
                else:
                    status, body = 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": form.get("To"),
                                         "from": form.get("From"), "body": form.get("Body"), "num_segments": "1",
                                         "date_created": formatdate(time.time(), usegmt=True)}
                    stub.messages.append(body)
                    if stub.hold.is_set():
                        time.sleep(120)  # the caller is killed or times out before hearing back
                        return
                self._answer(status, body)

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                stub.requests.append({"path": self.path, "query": query, "auth": self.headers.get("Authorization")})
                found = [m for m in reversed(stub.messages)
                         if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])]
                self._answer(200, {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50,
                                   "uri": self.path})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, status: int, code: int | None = None, message: str = "error") -> None:
        self.script.append((status, {"code": code, "message": message, "status": status, "more_info": ""}))

    def sends(self) -> list[dict]:
        return [r for r in self.requests if "form" in r]

    def close(self) -> None:
        self.server.shutdown()
