"""Serve one app of a case group on a free loopback port, in a daemon thread."""

import socket
import threading

LOOPBACK = "127.0.0.1"


def serve_wsgi(app):
    """Serve a WSGI app with werkzeug's threaded server; return its port."""
    from werkzeug.serving import make_server

    server = make_server(LOOPBACK, 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_port


def serve_asgi(app):
    """Serve an ASGI app with uvicorn on a socket bound here; return its port."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    # Listening before the port is announced: early connections wait in the backlog.
    sock.listen(128)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    return sock.getsockname()[1]


def serve_wsgiref(app):
    """Serve a WSGI app with the standard library's server, as Django's runserver does; return its port.

    werkzeug's development server (before 2.1) puts a ``werkzeug.server.shutdown``
    callable into the WSGI environ, and Django's error reporter calls every
    callable it finds there while rendering a 500: the server would stop.
    """
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class _Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class _QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass

    server = make_server(
        LOOPBACK, 0, app, server_class=_Server, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_port
