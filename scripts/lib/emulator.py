"""The local AWS emulator: moto's server, answering one request at a time.

DynamoDB applies every request atomically, and a transaction all or nothing. moto's
threaded server does not: two requests run side by side in one Python process, a condition
is checked and the write applied in separate steps, and a cancelled TransactWriteItems
restores a copy of the tables taken when it began, erasing whatever other requests wrote in
the meantime. Tests of concurrent requests against that would find the emulator's races,
not ours. Holding one lock around each request makes the emulator linearizable, as the real
services are, while the clients still send concurrently and still interleave between calls.

Two costs of moto's server that no test needs are removed (measured with py-spy during
make soak: about a sixth of the emulator's busy time): werkzeug's log line for every request
(only refused requests, 4xx and 5xx, are logged), and moto's listing of its own package
folder on disk for every request's host (read once).

Usage: emulator.py HOST PORT
"""

import signal
import sys
import threading

from moto import backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # The whole response is produced under the lock, not only the call.
            return list(self.app(environ, start_response))


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, code="-", size="-"):
        if str(getattr(code, "value", code))[:1] in ("4", "5"):
            super().log_request(code, size)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
