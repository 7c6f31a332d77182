"""A fake SMS gateway: a real HTTP server in a thread of the test process, standing for the
county's gateway. It checks the signature, keeps each message once by its Idempotency-Key
(answering 409 to a key it already has, as the real one is expected to) and counts what came
twice; it can be told to fail the next requests, to store a message and then drop the
connection (the answer is lost), or to hold requests until released."""

import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSmsGateway:
    def __init__(self, secret: str):
        self.secret = secret
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every request that reached it, in order
        self.messages: dict[str, dict] = {}  # key -> the message, kept once
        self.duplicates = 0  # requests with a key it already had
        self.bad_signatures = 0
        self._fail: list[int] = []  # statuses to answer the next requests with
        self._drop = 0  # store the next requests, then close without answering
        self.hold = threading.Event()  # cleared: requests wait until it is set
        self.hold.set()
        self.arrived = threading.Event()  # set when a request arrives
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                gateway._handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self._fail += [status] * count

    def drop_next(self, count: int = 1) -> None:
        with self.lock:
            self._drop += count

    @property
    def distinct(self) -> int:
        return len(self.messages)

    @property
    def doubled_messages(self) -> int:
        """Texts the phones got more than once: the same text to the same number under two
        keys (what a retry that made up a new key would do)."""
        seen = Counter((m["to"], m["text"]) for m in self.messages.values())
        return sum(1 for n in seen.values() if n > 1)

    def _handle(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        key = handler.headers.get("Idempotency-Key", "")
        timestamp = handler.headers.get("X-Wangge-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        self.arrived.set()
        self.hold.wait()
        with self.lock:
            self.requests.append({"key": key, "body": body, "headers": dict(handler.headers)})
            if not hmac.compare_digest(expected, handler.headers.get("X-Wangge-Signature", "")):
                self.bad_signatures += 1
                return self._answer(handler, 401, {"error": "bad signature"})
            if self._fail:
                return self._answer(handler, self._fail.pop(0), {"error": "told to fail"})
            payload = json.loads(body)
            if payload.get("key") != key:
                return self._answer(handler, 400, {"error": "key differs from the header"})
            if key in self.messages:
                self.duplicates += 1
                return self._answer(handler, 409, {"error": "already have it"})
            self.messages[key] = payload
            if self._drop:
                self._drop -= 1
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return None
        return self._answer(handler, 200, {"id": key})

    @staticmethod
    def _answer(handler, status, payload):
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
