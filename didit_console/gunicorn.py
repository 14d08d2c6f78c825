"""gunicorn's configuration for Didit Console: ``gunicorn -c didit_console/gunicorn.py``.

Every value can be overridden on the command line (``--bind``, ``--workers``) or through
gunicorn's own ``GUNICORN_CMD_ARGS``. ``./dev serve`` and ``deploy/gunicorn.service`` use it.
"""

from __future__ import annotations

import multiprocessing

wsgi_app = "didit_console.wsgi:application"
bind = "127.0.0.1:8000"
# gunicorn's rule of thumb; threads let a worker acknowledge webhooks while another request
# in it renders a PDF or waits for Didit.
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
# A PDF of a long history or a slow Didit may take a while; nothing legitimate takes longer.
timeout = 60
graceful_timeout = 30
# Recycle workers now and then, so that a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Each worker imports the app itself: no database connection or pool is ever opened in the
# master and shared across a fork.
preload_app = False
# Several instances on one machine (tests, benchmarks) would share the one default socket.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# The path only: the query string (the queue's search terms: names, document numbers,
# e-mail addresses) and the Referer (the previous page's query) never reach the access log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# Behind a reverse proxy on this host, trust its X-Forwarded-Proto (see README, Deploy).
forwarded_allow_ips = "127.0.0.1,::1"
