"""Kazbill's entry points, the layer that starts things: the `kazbill` command (cli/), the web
entry that `kazbill api` hands to gunicorn as its app factory (web.py), the demo (demo/) and the
simulations of a Kazoo cluster (simulation/). They wire the core (bookkeeper) to the apps (actors,
crossbar_api, webhooks) and start them; the core and the apps never import this package (an
import contract in setup.cfg keeps it so)."""
