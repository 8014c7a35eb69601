"""For bench/live_load.py's comparison of async modes only: the application under gevent.

    .venv/bin/python bench/live_load.py --server-command ".venv/bin/python bench/gevent_server.py"

The same application as `voting serve` (database from VOTING_DATABASE_URL), with Flask-SocketIO in
`async_mode="gevent"` behind gevent's WSGI server and gevent-websocket, everything monkey-patched
before the first import. No vote timer and no purge at start (the bench needs neither). Listens on
127.0.0.1, any free port, and prints the address like `voting serve`. Not for production: the
project serves with threads (see ASYNC_MODE in voting/web/live.py).
"""

from gevent import monkey

monkey.patch_all()

import voting.web.live as live  # noqa: E402

live.ASYNC_MODE = "gevent"

from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

from voting.config import load_config  # noqa: E402
from voting.services.runtime import build_runtime  # noqa: E402
from voting.web import create_app  # noqa: E402


def main() -> None:
    config = load_config()
    app = create_app(config, build_runtime(config.database_url_resolved()))
    server = pywsgi.WSGIServer(("127.0.0.1", 0), app, handler_class=WebSocketHandler, log=None)
    server.start()
    print(f"Serving on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
