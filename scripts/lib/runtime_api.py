"""A local Lambda Runtime API: what a `provided.al2023` bootstrap talks to, served on the
loopback so a release binary can be started as Lambda starts it and handed events.

Serves the documented paths of version 2018-06-01:
  GET  /2018-06-01/runtime/invocation/next
  POST /2018-06-01/runtime/invocation/{id}/response
  POST /2018-06-01/runtime/invocation/{id}/error
  POST /2018-06-01/runtime/init/error

`RuntimeApi.invoke(event)` queues one event and waits for its answer; `first_next_at` is the
monotonic time of the first `GET /next` (the end of the function's init), `first_next` the
event set then.
"""

import json
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A function killed while it waits on `GET /next` resets its connection: expected.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class RuntimeApi:
    def __init__(self, function_name="function", timeout_ms=10_000):
        self.function_name = function_name
        self.timeout_ms = timeout_ms
        self.events = queue.Queue()
        self.pending = {}
        self.init_error = None
        self.first_next_at = None
        self.first_next = threading.Event()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # A short poll: close() waits for the serving loop to see it (0.5 s by default, per
        # cold start measured).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def address(self):
        host, port = self.server.server_address
        return f"{host}:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def invoke(self, event, timeout=60.0):
        """Hands `event` to the next `GET /next` and returns (kind, body): kind is
        "response" or "error", body the parsed JSON the function posted."""
        request_id = str(uuid.uuid4())
        answer = queue.Queue(maxsize=1)
        with self.lock:
            self.pending[request_id] = answer
        self.events.put((request_id, event))
        try:
            return answer.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer to {request_id} within {timeout} s") from None
        finally:
            with self.lock:
                self.pending.pop(request_id, None)

    def _answer(self, request_id, kind, body):
        with self.lock:
            answer = self.pending.get(request_id)
        if answer is None:
            return False
        answer.put((kind, body))
        return True

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return raw.decode("utf-8", "replace")

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorMessage":"unknown path"}')
                with api.lock:
                    if api.first_next_at is None:
                        api.first_next_at = time.monotonic()
                        api.first_next.set()
                request_id, event = api.events.get()
                deadline = int(time.time() * 1000) + api.timeout_ms
                arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{api.function_name}"
                self._reply(200, json.dumps(event).encode(), {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": arn,
                    "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                })

            def do_POST(self):
                body = self._body()
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_error = body
                    return self._reply(202, b'{"status":"OK"}')
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    if api._answer(parts[1], parts[2], body):
                        return self._reply(202, b'{"status":"OK"}')
                    return self._reply(400, b'{"errorMessage":"unknown request id"}')
                return self._reply(404, b'{"errorMessage":"unknown path"}')

        return Handler


def lambda_environment(function_name, runtime_api, memory_mb=256):
    """The variables Lambda sets for every function (besides the template's own)."""
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "LAMBDA_TASK_ROOT": "/var/task",
        "_HANDLER": "bootstrap",
        "TZ": ":UTC",
    }
