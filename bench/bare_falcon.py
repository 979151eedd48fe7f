"""The API benchmark's reference: a bare Falcon endpoint on the same gunicorn, no middleware, no
store, no token (`gunicorn -w 2 bench.bare_falcon:app`), so the table shows what Kazbill's own
work adds to a request."""

import falcon


class Ping:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "success"}


app = falcon.App()
app.add_route("/ping", Ping())
