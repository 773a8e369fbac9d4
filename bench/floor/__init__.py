"""The true floor of the gunicorn benchmarks: a minimal Django project of its own (one JSON view,
CommonMiddleware only, no database, none of our apps or settings), served next to the stack by
`bench.servers.floor_server()` with the gunicorn command line the benchmarks use for our
application. Nothing here imports Django: the benchmarks' client processes import these names."""

FLOOR_PATH = "/floor/"
# The body of bench/urls.py's bare view, so both write the same bytes.
FLOOR_BODY = {"status": "ok"}
SETTINGS = "bench.floor.settings"
WSGI_APP = "bench.floor.wsgi:application"
