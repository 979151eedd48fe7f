"""A longpoll the server takes and never answers (a hung node, a dropped connection a balancer
keeps open) ends at the client's read timeout with an empty page marked `expired`: no news is
known, which a follower must not read as "nothing happened" (crossbar_api/revocations.py)."""

from __future__ import annotations

import socket
import threading

from bookkeeper.adapters.couchdb_store import CouchDbStore


def test_a_longpoll_never_answered_is_an_expired_page_not_an_answer():
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    store = CouchDbStore(f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        page = store.changes("kazbill_system", "7-abc", timeout_s=0.2)
        assert (page.changes, page.last_seq, page.expired) == ([], "7-abc", True)
    finally:
        store.close()
        for connection in accepted:
            connection.close()
        listener.close()
