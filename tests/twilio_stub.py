"""A local HTTP server that answers like api.twilio.com's Messages endpoint, with scripted
failures. It is the outside edge of the tests: nothing else is mocked."""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class TwilioStub:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict]] = []  # responses to give next, then 201 created
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
                                         "body": form.get("Body"), "num_segments": "1"}
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

    def close(self) -> None:
        self.server.shutdown()
