"""The local AWS emulator: moto's server, answering one request at a time.

DynamoDB applies every request atomically, and a transaction all or nothing. moto's
threaded server does not: two requests run side by side in one Python process, a condition
is checked and the write applied in separate steps, and a cancelled TransactWriteItems
restores a copy of the tables taken when it began, erasing whatever other requests wrote in
the meantime. Tests of concurrent requests against that would find the emulator's races,
not ours. Holding one lock around each request makes the emulator linearizable, as the real
services are, while the clients still send concurrently and still interleave between calls.

Usage: emulator.py HOST PORT
"""

import signal
import sys
import threading

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


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
