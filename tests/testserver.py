"""What the python test servers (llm_server.py, fetch_server.py) share: a
threading HTTP server on 127.0.0.1 on a free port, printed as the first
line of stdout, that exits when its stdin closes or after `lifetime`
seconds, so a test that dies leaves no server behind."""
import os
import sys
import threading
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that hang up (a cut body, a timeout, a size cap, a
        # cancel) are part of the tests, not news.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(handler, lifetime):
    srv = Server(("127.0.0.1", 0), handler)
    print(srv.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)
    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()
