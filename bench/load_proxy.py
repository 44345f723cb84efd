"""nginx in front of several lrlab replicas, for bench/load.py --replicas N (and the README's config).

    python bench/load_proxy.py --print-config          # the nginx config the README describes

What the config does (all of it nginx open source, Debian's ``nginx`` package):

- sticky sessions without nginx Plus: the first response sets a ``lrlab_replica`` cookie to a random
  id and ``hash … consistent`` keeps every later request and the websocket of that browser on one
  replica (session state, uploads and downloads live in that replica's memory). ``ip_hash`` would
  send a whole classroom behind one NAT address to the same replica;
- the websocket upgrade on ``/_stcore/stream`` (HTTP/1.1, Upgrade/Connection headers, no buffering,
  a long read timeout);
- gzip (and brotli when the module is installed: ``libnginx-mod-http-brotli-filter``) for the
  ~10 MB of JavaScript a first visit loads — Streamlit serves its static files uncompressed on
  purpose and leaves compression to the proxy — and a proxy cache for those content-hashed files;
- an upload limit just above Streamlit's ``server.maxUploadSize`` (5 MB).

Only for loopback measurements here: it listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

TEMPLATE = """\
# lrlab behind nginx: {n} replicas, sticky per browser, websocket upgrade, compressed static files.
{load_module}worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}

http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;

    # Sticky sessions: a browser without the cookie gets a random id, kept in the cookie from then on;
    # the same id always hashes to the same replica (its session state lives there).
    map $cookie_lrlab_replica $lrlab_replica {{
        ""      $request_id;
        default $cookie_lrlab_replica;
    }}
    upstream lrlab {{
        hash $lrlab_replica consistent;
{servers}
        keepalive 32;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}

    # Streamlit sends its ~10 MB of JavaScript uncompressed and leaves compression to the proxy.
    gzip on;
    gzip_comp_level 6;
    gzip_min_length 1024;
    gzip_proxied any;
    gzip_vary on;
    gzip_types application/javascript text/javascript text/css application/json image/svg+xml text/plain;
{brotli}
    # The bundles under /static/ are content-hashed (immutable): keep them at the proxy.
    proxy_cache_path {run}/cache levels=1:2 keys_zone=lrlab_static:10m max_size=200m inactive=7d use_temp_path=off;

    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 6m;  # Streamlit's server.maxUploadSize is 5 (MB)
        add_header Set-Cookie "lrlab_replica=$lrlab_replica; Path=/; HttpOnly; SameSite=Lax" always;
{debug}        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        location /_stcore/stream {{
            proxy_pass http://lrlab;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
        location /static/ {{
            proxy_pass http://lrlab;
            proxy_set_header Connection "";
            proxy_cache lrlab_static;
            proxy_cache_valid 200 7d;
        }}
        location / {{
            proxy_pass http://lrlab;
            proxy_set_header Connection "";
        }}
    }}
}}
"""

BROTLI = """\
    brotli on;
    brotli_comp_level 5;
    brotli_types application/javascript text/javascript text/css application/json image/svg+xml text/plain;
"""


def config(ports: list[int], port: int, run: str, *, debug: bool = False) -> str:
    """The nginx config for replicas on 127.0.0.1:`ports`, listening on 127.0.0.1:`port`; `debug`
    adds an X-Upstream header naming the replica that answered (to check stickiness)."""
    brotli = BROTLI_MODULE.exists()
    return TEMPLATE.format(
        n=len(ports),
        load_module=f"load_module {BROTLI_MODULE};\n" if brotli else "",
        run=run,
        servers="\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports),
        brotli=BROTLI if brotli else "    # brotli: apt-get install libnginx-mod-http-brotli-filter\n",
        port=port,
        debug="        add_header X-Upstream $upstream_addr always;\n" if debug else "",
    )


def available() -> str | None:
    """None if nginx can be run, else what to install."""
    if Path(NGINX).exists():
        return None
    return "nginx not found: apt-get install -y nginx (optional: libnginx-mod-http-brotli-filter)"


@contextlib.contextmanager
def proxy(ports: list[int], port: int, timeout: float = 15.0, *, debug: bool = False) -> Iterator[str]:
    """Run nginx (foreground, its own prefix in a temp dir) in front of `ports`; yield its URL."""
    problem = available()
    if problem:
        raise SystemExit(problem)
    with tempfile.TemporaryDirectory(prefix="lrlab-nginx-") as run:
        # nginx's workers drop to an unprivileged user: they must be able to write their temp and cache dirs
        Path(run).chmod(0o755)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
            (Path(run) / sub).mkdir(mode=0o777)
            (Path(run) / sub).chmod(0o777)
        conf = Path(run) / "nginx.conf"
        conf.write_text(config(ports, port, run, debug=debug))
        check = subprocess.run([NGINX, "-t", "-p", run, "-c", str(conf)], capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"nginx rejected the config:\n{check.stderr}")
        proc = subprocess.Popen(
            [NGINX, "-p", run, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read().strip() == b"ok":
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not come up: {proc.stderr.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--print-config", action="store_true", help="print the config for two replicas on 8501/8502")
    ap.parse_args()
    print(config([8501, 8502], 80, "/var/lib/lrlab-nginx").replace("127.0.0.1:80;", "80;"))


if __name__ == "__main__":
    main()
