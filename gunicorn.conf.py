"""gunicorn settings for production: ``gunicorn --config gunicorn.conf.py wsgi:app``.

Each value can be overridden from the environment (``GUNICORN_CMD_ARGS`` or the variables
below). ``kill -HUP <master>`` (``systemctl reload frontline``) starts new workers with the
new code and settings, then lets the old ones finish their requests: the listening socket
never closes, so no connection is refused.
"""

import importlib
import multiprocessing
import os

bind = os.environ.get("FRONTLINE_BIND", "127.0.0.1:8000")
# Two per core plus one, at least four: a long export or PDF must not hold up everyone else.
workers = int(os.environ.get("WEB_CONCURRENCY", max(4, multiprocessing.cpu_count() * 2 + 1)))
worker_class = "sync"
# A sync worker is killed when one request runs longer than this: the largest export (the
# whole register, 100,000 threats, as CSV) and a quarter's PDF must finish well within it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
# On reload or stop, a worker gets this long to finish the request in hand.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# Recycle workers now and then, so a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# Off, so a HUP reload imports the new code in the new workers. The libraries, though, are
# imported once here in the master: a worker forked on reload then imports only Frontline's
# own code (about 0.5 s of CPU instead of 2), so requests wait in the socket's queue for
# that long at most. A library upgrade needs a restart; new app code, a reload.
preload_app = False
for _library in (
    "flask",
    "flask_sqlalchemy",
    "flask_migrate",
    "flask_wtf",
    "flask_login",
    "flask_limiter",
    "flask_talisman",
    "flask_bootstrap",
    "flask_smorest",
    "marshmallow",
    "psycopg",
    "redis",
    "reportlab.platypus",
    "reportlab.graphics.shapes",
    "stix2",
    "pypdf",
    "email_validator",
):
    importlib.import_module(_library)
# The TLS proxy on this host sets X-Forwarded-Proto; trust it from there only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
# Client, user, time, request, status, bytes, referrer, agent and the duration in seconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'
proc_name = "frontline"
