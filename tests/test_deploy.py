"""The deployment files under deploy/ (issue 17): Kubernetes manifests validated against the Kubernetes
JSON schemas (kubernetes-validate, offline), their wiring checked against the Dockerfile and
.streamlit/config.toml, the nginx config parsed (crossplane) and checked for stickiness, websocket
upgrade, timeouts and upload size, and docker-compose.yml checked against the nginx upstream.

Nothing here needs a cluster, Docker or nginx; `nginx -t` runs as an extra check where nginx exists."""

from __future__ import annotations

import copy
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import crossplane
import crossplane.analyzer
import kubernetes_validate
import pytest
import yaml

from lrlab.ui.cache import CURVE_CACHE_BYTES

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
NGINX_CONF = DEPLOY / "nginx" / "lrlab.conf"
COMPOSE = DEPLOY / "docker-compose.yml"

# Kubernetes versions whose schemas (bundled by kubernetes-validate) every manifest must satisfy.
SCHEMA_VERSIONS = ("1.30.0", "1.33.0")
HEALTH = "/_stcore/health"
ONE_HOUR = 3600
# Memory of one server process (docs/load-report.md, issue 17): ~765 MB once app.py has loaded timm,
# Keras, optax and fastai in the background, RSS peaks at ~1.07–1.13 GB with 30 students, sessions a
# few MB each; st.cache_data may add server.maxCacheDataSize and the curve cache its CURVE_CACHE_BYTES.
MB = 1000**2
STARTUP_RSS = 765 * MB
STEADY_RSS_30_STUDENTS = 1130 * MB
SESSION_RSS = 5 * MB
CLASS = 30


# ---------------------------------------------------------------------------------------------- inputs


def k8s_files() -> list[Path]:
    return sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml"))


def k8s_documents() -> list[tuple[str, dict]]:
    """(file:index kind/name, document) for every non-empty document of every manifest."""
    out = []
    for path in k8s_files():
        with path.open() as handle:
            for i, doc in enumerate(yaml.safe_load_all(handle)):
                if doc is not None:
                    name = doc.get("metadata", {}).get("name", "?")
                    out.append((f"{path.relative_to(ROOT)}:{i} {doc.get('kind')}/{name}", doc))
    return out


DOCS = k8s_documents()


def only(kind: str) -> dict:
    found = [doc for _, doc in DOCS if doc.get("kind") == kind]
    assert len(found) == 1, f"expected exactly one {kind} under deploy/k8s/, found {len(found)}"
    return found[0]


def optional(kind: str) -> list[dict]:
    return [doc for _, doc in DOCS if doc.get("kind") == kind]


def dockerfile() -> dict:
    """EXPOSEd ports, the --server.port of the ENTRYPOINT and the uid useradd gives the USER."""
    text = (ROOT / "Dockerfile").read_text()
    lines = re.sub(r"\\\n", " ", text).splitlines()  # join continuation lines
    exposed, entry, user, uids = [], None, None, {}
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        op = words[0].upper()
        if op == "EXPOSE":
            exposed += [int(w.split("/")[0]) for w in words[1:]]
        elif op == "ENTRYPOINT":
            entry = yaml.safe_load(line.split(None, 1)[1])  # the exec form is a JSON array
        elif op == "USER":
            user = words[1]
        for m in re.finditer(r"useradd\s[^&;]*?--uid\s+(\d+)[^&;]*?\s([a-z_][a-z0-9_-]*)\s*(?:$|&&|;)", line):
            uids[m.group(2)] = int(m.group(1))
    assert exposed and entry and user, "Dockerfile: EXPOSE, ENTRYPOINT and USER expected"
    flags = dict(arg.split("=", 1) for arg in entry if arg.startswith("--") and "=" in arg)
    return {
        "expose": exposed,
        "port": int(flags["--server.port"]),
        "user": user,
        "uid": uids.get(user, int(user) if user.isdigit() else None),
    }


def streamlit_config() -> dict:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as handle:
        return tomllib.load(handle)


def max_upload_bytes() -> int:
    """Streamlit's server.maxUploadSize is in MB (counted here as MiB: the larger reading)."""
    return int(streamlit_config()["server"].get("maxUploadSize", 200)) * 1024**2


def cache_budget_bytes() -> int:
    text = str(streamlit_config()["server"].get("maxCacheDataSize", "0")).strip().lower()
    m = re.fullmatch(r"([\d.]+)\s*(b|kb|mb|gb)?", text)
    assert m, f"unreadable server.maxCacheDataSize {text!r}"
    return int(float(m.group(1)) * {"b": 1, None: 1, "kb": 1000, "mb": MB, "gb": 1000 * MB}[m.group(2)])


# ---------------------------------------------------------------------------------------------- units

_K8S_SUFFIX = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "m": 10**-3,
    "": 1,
}


def k8s_quantity(value) -> float:
    """A Kubernetes resource quantity ("768Mi", "1", "500m", 2, "1.5Gi", "1e9") as a number."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"([+-]?[\d.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?", str(value).strip())
    assert m, f"not a quantity: {value!r}"
    return float(m.group(1)) * _K8S_SUFFIX[m.group(2) or ""]


def nginx_size(value: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert m, f"not an nginx size: {value!r}"
    return int(m.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]


def nginx_seconds(value: str) -> float:
    """nginx time: "3600", "3600s", "1h", "60m", "1h 30m", "500ms"."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 1}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w)?", value.replace(" ", ""))
    assert parts and "".join(n + u for n, u in parts) == value.replace(" ", ""), value
    return sum(int(n) * units[u] for n, u in parts)


def docker_bytes(value) -> int:
    m = re.fullmatch(r"(\d+)\s*([bkmg]?)b?", str(value).strip().lower())
    assert m, f"not a docker size: {value!r}"
    return int(m.group(1)) * {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2)]


def test_units():
    assert k8s_quantity("768Mi") == 768 * 2**20 and k8s_quantity("500m") == 0.5
    assert k8s_quantity(2) == 2 and k8s_quantity("1.5Gi") == 1.5 * 2**30 and k8s_quantity("1e3") == 1000
    assert nginx_size("6m") == 6 * 2**20 and nginx_size("512k") == 512 * 2**10
    assert nginx_seconds("1h") == nginx_seconds("3600s") == nginx_seconds("60m") == 3600
    assert docker_bytes("1536m") == 1536 * 2**20 and docker_bytes("2g") == 2 * 2**30
    with pytest.raises(AssertionError):
        k8s_quantity("12 Mb")
    d = dockerfile()
    assert d["port"] in d["expose"] and d["uid"] is not None


# ---------------------------------------------------------------------------------------------- schemas


def test_manifests_present():
    kinds = sorted(doc.get("kind") for _, doc in DOCS)
    for kind in ("Deployment", "Service", "Ingress", "PodDisruptionBudget"):
        assert kind in kinds, f"no {kind} under {K8S.relative_to(ROOT)}: {kinds}"


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("doc", [d for _, d in DOCS], ids=[n for n, _ in DOCS])
def test_manifest_validates_against_kubernetes_schema(doc, version):
    # strict: unknown fields (a misspelt key, a field at the wrong level) are errors, as kubectl's
    # server-side field validation makes them.
    assert kubernetes_validate.validate(doc, version, strict=True) == version.rsplit(".", 1)[0]


def test_schema_validation_rejects_broken_manifests():
    """The validation above is not vacuous: typical mistakes in these manifests are caught."""
    dep = only("Deployment")

    def broken(change) -> dict:
        doc = copy.deepcopy(dep)
        change(doc)
        return doc

    def container(doc):
        return doc["spec"]["template"]["spec"]["containers"][0]

    mistakes = {
        "misspelt key": broken(lambda d: container(d).__setitem__("readinesProbe", {})),
        "string replicas": broken(lambda d: d["spec"].__setitem__("replicas", "2")),
        "no selector": broken(lambda d: d["spec"].pop("selector")),
        "probe port list": broken(lambda d: container(d)["livenessProbe"]["httpGet"].__setitem__("port", [1])),
    }
    for what, doc in mistakes.items():
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(doc, SCHEMA_VERSIONS[-1], strict=True)
            pytest.fail(f"schema validation accepted a Deployment with a {what}")
    ingress = copy.deepcopy(only("Ingress"))
    ingress["apiVersion"] = "networking.k8s.io/v1beta1"  # removed in Kubernetes 1.22
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(ingress, SCHEMA_VERSIONS[-1], strict=True)


# ---------------------------------------------------------------------------------------------- wiring


def pod_spec() -> dict:
    return only("Deployment")["spec"]["template"]["spec"]


def pod_labels() -> dict:
    return only("Deployment")["spec"]["template"]["metadata"]["labels"]


def app_container() -> dict:
    containers = pod_spec()["containers"]
    assert len(containers) == 1, "one container per pod: one Streamlit process"
    return containers[0]


def container_port(port) -> int:
    """A probe's or Service's port (number or name) as the container's port number."""
    ports = app_container()["ports"]
    if isinstance(port, int):
        assert port in [p["containerPort"] for p in ports], f"port {port} is not a container port"
        return port
    named = [p["containerPort"] for p in ports if p.get("name") == port]
    assert named, f"no container port named {port!r}"
    return named[0]


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_deployment_serves_the_dockerfile_port():
    d = dockerfile()
    ports = [p["containerPort"] for p in app_container()["ports"]]
    assert ports == [d["port"]] and d["port"] in d["expose"], (ports, d)
    assert d["port"] == 8501


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probes_hit_streamlit_health(probe):
    spec = app_container().get(probe)
    assert spec, f"no {probe}"
    get = spec["httpGet"]
    assert get["path"] == HEALTH
    assert container_port(get["port"]) == dockerfile()["port"]
    assert spec.get("timeoutSeconds", 1) >= 3, "a busy process answers slowly: give the probe time"


def test_probes_allow_a_slow_start_and_a_busy_process():
    c = app_container()
    start = c["startupProbe"]
    # The server takes seconds to come up (torch, transformers): at least a minute before giving up.
    assert start.get("periodSeconds", 10) * start.get("failureThreshold", 3) >= 60
    live = c["livenessProbe"]
    # A restart drops every session of the pod: not before a minute of failed checks.
    assert live.get("periodSeconds", 10) * live.get("failureThreshold", 3) >= 60


def test_image_and_security_context_match_the_dockerfile():
    d, c, pod = dockerfile(), app_container(), pod_spec()
    assert c["image"].split("/")[-1].split(":")[0] == "lrlab"
    assert c["imagePullPolicy"] == "IfNotPresent"
    sec = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
    assert sec.get("runAsNonRoot") is True
    assert sec.get("runAsUser") == d["uid"] == 1000
    assert sec.get("allowPrivilegeEscalation") is False
    if sec.get("readOnlyRootFilesystem"):
        # Streamlit, tempfile and torch write under /tmp, the home directory may get caches.
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        assert {"/tmp", f"/home/{d['user']}"} <= mounts, mounts
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for m in c["volumeMounts"]:
            if m["mountPath"] in ("/tmp", f"/home/{d['user']}"):
                assert "emptyDir" in volumes[m["name"]] and not m.get("readOnly")


def test_resources_follow_the_measured_memory():
    res = app_container()["resources"]
    req, lim = res["requests"], res["limits"]
    assert k8s_quantity(lim["memory"]) >= k8s_quantity(req["memory"])
    assert k8s_quantity(lim["cpu"]) >= k8s_quantity(req["cpu"]) >= 1, "one process uses one core"
    # The scheduler reserves at least what a process serving a class was measured to use ...
    assert k8s_quantity(req["memory"]) >= STEADY_RSS_30_STUDENTS
    # ... and the kernel's limit (an OOM kill drops every session of the pod) is above the ceiling:
    # start-up + the st.cache_data byte budget of .streamlit/config.toml + the curve cache's (lrlab.ui.cache)
    # + the class's sessions.
    ceiling = STARTUP_RSS + cache_budget_bytes() + CURVE_CACHE_BYTES + CLASS * SESSION_RSS
    assert cache_budget_bytes() > 0, "no server.maxCacheDataSize: the caches are not bounded in bytes"
    assert k8s_quantity(lim["memory"]) >= ceiling, (lim["memory"], ceiling)


def test_deployment_replicas_and_rollout_keep_serving():
    dep = only("Deployment")
    assert dep["spec"]["replicas"] >= 2
    assert selects(dep["spec"]["selector"]["matchLabels"], pod_labels())
    rolling = dep["spec"].get("strategy", {}).get("rollingUpdate", {})
    assert rolling.get("maxUnavailable") == 0, "a rolling update must not lower the serving pods"


def test_service_selects_the_pods_and_targets_the_container_port():
    svc = only("Service")
    assert selects(svc["spec"]["selector"], pod_labels()), (svc["spec"]["selector"], pod_labels())
    assert svc["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert svc["spec"].get("sessionAffinity") == "ClientIP"
    for port in svc["spec"]["ports"]:
        assert container_port(port.get("targetPort", port["port"])) == dockerfile()["port"]


def test_ingress_routes_to_the_service_with_cookie_affinity():
    ing, svc = only("Ingress"), only("Service")
    backends = [path["backend"]["service"] for rule in ing["spec"]["rules"] for path in rule["http"]["paths"]]
    assert backends
    for backend in backends:
        assert backend["name"] == svc["metadata"]["name"]
        port = backend["port"]
        svc_ports = svc["spec"]["ports"]
        if "name" in port:
            assert port["name"] in [p.get("name") for p in svc_ports], (port, svc_ports)
        else:
            assert port["number"] in [p["port"] for p in svc_ports], (port, svc_ports)
    paths = [p for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]]
    assert any(p["path"] == "/" and p["pathType"] == "Prefix" for p in paths), "the whole app: / as Prefix"

    a = ing["metadata"]["annotations"]
    assert all(isinstance(v, str) for v in a.values()), "annotation values are strings"
    ns = "nginx.ingress.kubernetes.io/"
    assert ing["spec"].get("ingressClassName") == "nginx"
    assert a[ns + "affinity"] == "cookie"
    assert a[ns + "affinity-mode"] == "persistent", "balanced would move live sessions to new pods"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a[ns + "session-cookie-name"])
    assert int(a[ns + "session-cookie-max-age"]) >= ONE_HOUR
    assert int(a[ns + "proxy-read-timeout"]) >= ONE_HOUR
    assert int(a[ns + "proxy-send-timeout"]) >= ONE_HOUR
    assert nginx_size(a[ns + "proxy-body-size"]) >= max_upload_bytes()


def test_disruption_budget_selects_the_pods_and_allows_drains():
    pdb, dep = only("PodDisruptionBudget"), only("Deployment")
    assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels())
    assert 1 <= pdb["spec"]["minAvailable"] < dep["spec"]["replicas"], "a drain could never evict a pod"


def test_autoscaler_if_any_targets_the_deployment():
    dep = only("Deployment")
    for hpa in optional("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", dep["metadata"]["name"])
        assert hpa["spec"]["minReplicas"] >= 2
        assert "cpu" in app_container()["resources"]["requests"], "CPU utilisation is of the request"
        # Scaling in drops the sessions of the removed pod: slowly, one pod at a time.
        down = hpa["spec"]["behavior"]["scaleDown"]
        assert down["stabilizationWindowSeconds"] >= 600
        assert all(p["type"] == "Pods" and p["value"] == 1 for p in down["policies"])


# ---------------------------------------------------------------------------------------------- nginx


def wrapper(tmp_path: Path, conf: Path) -> Path:
    """A main nginx.conf that includes `conf` inside its http block, as the nginx image does."""
    main = tmp_path / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n    include {conf};\n}}\n")
    return main


@pytest.fixture
def nginx_http(tmp_path) -> list[dict]:
    """deploy/nginx/lrlab.conf parsed by crossplane inside an http block (contexts and argument
    counts checked by crossplane), as the list of http-level directives."""
    payload = crossplane.parse(str(wrapper(tmp_path, NGINX_CONF)), combine=True)
    assert payload["status"] == "ok", payload["errors"]
    http = [d for d in payload["config"][0]["parsed"] if d["directive"] == "http"]
    assert len(http) == 1 and http[0]["block"], "lrlab.conf is empty"
    unknown = [f"{d['directive']} (line {d['line']})" for d in walk(http[0]["block"]) if d["directive"] not in KNOWN]
    assert not unknown, f"directives nginx does not know (misspelt?): {unknown}"
    return http[0]["block"]


# Every directive of nginx and its modules, as crossplane knows them. (crossplane's own strict mode
# would also reject the entries of a map block, which are not directives.)
KNOWN = set(crossplane.analyzer.DIRECTIVES)
OPAQUE = {"map", "types", "geo", "split_clients", "charset_map", "match"}


def walk(block: list[dict]):
    for d in block:
        yield d
        if "block" in d and d["directive"] not in OPAQUE:
            yield from walk(d["block"])


def directives(block: list[dict], name: str) -> list[dict]:
    return [d for d in block if d["directive"] == name]


def effective(levels: list[list[dict]], name: str) -> list[list[str]]:
    """The args of `name` in force in the innermost of `levels` (outermost first): nginx inherits an
    array directive (proxy_set_header, add_header) only into a level that declares none itself."""
    for block in reversed(levels):
        found = directives(block, name)
        if found:
            return [d["args"] for d in found]
    return []


def location_for(server: list[dict], uri: str) -> list[dict]:
    """The block of the prefix location nginx picks for `uri` (longest match; exact wins)."""
    best, best_len = None, -1
    for loc in directives(server, "location"):
        args = loc["args"]
        if args[0] == "=" and args[1] == uri:
            return loc["block"]
        prefix = args[-1] if args[0] in ("^~",) or len(args) == 1 else None
        if prefix is not None and uri.startswith(prefix) and len(prefix) > best_len:
            best, best_len = loc["block"], len(prefix)
    assert best is not None, f"no location serves {uri}"
    return best


def the_server(http: list[dict]) -> list[dict]:
    servers = directives(http, "server")
    assert len(servers) == 1
    return servers[0]["block"]


def upstream_servers(http: list[dict]) -> list[str]:
    (upstream,) = directives(http, "upstream")
    return [d["args"][0] for d in directives(upstream["block"], "server")]


def sticky_cookie(http: list[dict]) -> str:
    """The cookie whose value the upstream hashes on (directly or through a map)."""
    (upstream,) = directives(http, "upstream")
    (hash_,) = directives(upstream["block"], "hash")
    assert hash_["args"][-1] == "consistent", "consistent hashing: adding a replica moves few browsers"
    key = hash_["args"][0]
    m = re.fullmatch(r"\$cookie_(\w+)", key)
    if m:
        return m.group(1)
    for map_ in directives(http, "map"):
        if map_["args"][1] == key:
            m = re.fullmatch(r"\$cookie_(\w+)", map_["args"][0])
            assert m, f"{key} is not mapped from a cookie"
            return m.group(1)
    raise AssertionError(f"hash key {key} is neither a cookie nor mapped from one")


def test_nginx_upstream_is_sticky_on_a_cookie(nginx_http):
    servers = upstream_servers(nginx_http)
    assert len(servers) >= 2 and len(set(servers)) == len(servers), servers
    assert all(s.endswith(f":{dockerfile()['port']}") for s in servers), servers
    cookie = sticky_cookie(nginx_http)
    # nginx itself sets the cookie it hashes on, on every response of every location.
    (hash_,) = directives(directives(nginx_http, "upstream")[0]["block"], "hash")
    server = the_server(nginx_http)
    for uri in ("/", "/_stcore/stream", "/_stcore/upload_file", "/media/x.csv", "/static/js/main.js"):
        headers = effective([nginx_http, server, location_for(server, uri)], "add_header")
        cookies = [h for h in headers if h[0].lower() == "set-cookie"]
        assert any(h[1].startswith(f"{cookie}={hash_['args'][0]};") and "always" in h for h in cookies), (
            uri,
            headers,
        )


def test_nginx_upgrades_the_websocket(nginx_http):
    maps = {tuple(m["args"]): m["block"] for m in directives(nginx_http, "map")}
    upgrade = maps.get(("$http_upgrade", "$connection_upgrade"))
    assert upgrade is not None, "map $http_upgrade $connection_upgrade missing"
    assert ["default", "upgrade"] in [[d["directive"], *d["args"]] for d in upgrade]
    server = the_server(nginx_http)
    (upstream,) = directives(nginx_http, "upstream")
    stream = location_for(server, "/_stcore/stream")
    levels = [nginx_http, server, stream]
    headers = {args[0].lower(): args[1] for args in effective(levels, "proxy_set_header")}
    assert headers.get("upgrade") == "$http_upgrade", headers
    assert headers.get("connection") == "$connection_upgrade", headers
    assert effective(levels, "proxy_http_version") == [["1.1"]]
    assert effective(levels, "proxy_pass") == [[f"http://{upstream['args'][0]}"]]
    assert nginx_seconds(effective(levels, "proxy_read_timeout")[0][0]) >= ONE_HOUR
    assert nginx_seconds(effective(levels, "proxy_send_timeout")[0][0]) >= ONE_HOUR


def test_nginx_every_location_keeps_the_host_and_reaches_the_upstream(nginx_http):
    # Streamlit accepts the websocket when its Origin matches the Host it sees: the proxy must pass the
    # browser's Host in every location (a location with its own proxy_set_header inherits none).
    server = the_server(nginx_http)
    (upstream,) = directives(nginx_http, "upstream")
    for loc in directives(server, "location"):
        levels = [nginx_http, server, loc["block"]]
        headers = {args[0].lower(): args[1] for args in effective(levels, "proxy_set_header")}
        assert headers.get("host") in ("$host", "$http_host"), (loc["args"], headers)
        assert effective(levels, "proxy_pass") == [[f"http://{upstream['args'][0]}"]], loc["args"]


def test_nginx_allows_the_app_upload_size_and_compresses(nginx_http):
    server = the_server(nginx_http)
    upload = location_for(server, "/_stcore/upload_file")
    (size,) = effective([nginx_http, server, upload], "client_max_body_size")
    assert nginx_size(size[0]) >= max_upload_bytes(), (size, max_upload_bytes())
    assert effective([nginx_http, server], "gzip") == [["on"]]
    types = {t for args in effective([nginx_http, server], "gzip_types") for t in args}
    assert {"application/javascript", "text/css", "application/json"} <= types, types


def test_nginx_config_passes_nginx_t(tmp_path):
    """nginx's own check of the config, where nginx is installed (CI does not install it). The
    replicas' names exist only on compose's network: they become loopback addresses here."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (optional check; the crossplane checks above always run)")
    payload = crossplane.parse(str(wrapper(tmp_path, NGINX_CONF)), combine=True)
    assert payload["status"] == "ok", payload["errors"]
    top = payload["config"][0]["parsed"]
    http = directives(top, "http")[0]["block"]
    for i, server in enumerate(directives(directives(http, "upstream")[0]["block"], "server")):
        server["args"][0] = f"127.0.0.1:{18501 + i}"
    for cache in directives(http, "proxy_cache_path"):
        cache["args"][0] = str(tmp_path / "cache")
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        http.insert(0, {"directive": f"{name}_temp_path", "args": [str(tmp_path / name)]})
    if Path("/etc/nginx/mime.types").exists():
        http.insert(0, {"directive": "include", "args": ["/etc/nginx/mime.types"]})
    top[:0] = [
        {"directive": "pid", "args": [str(tmp_path / "nginx.pid")]},
        {"directive": "error_log", "args": [str(tmp_path / "error.log")]},
    ]
    conf = tmp_path / "test.conf"
    conf.write_text(crossplane.build(top))
    cmd = [nginx, "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{shlex.join(cmd)}\n{result.stderr}\n{conf.read_text()}"


# ---------------------------------------------------------------------------------------------- compose


def compose() -> dict:
    with COMPOSE.open() as handle:
        return yaml.safe_load(handle)


def replica_services(services: dict) -> dict:
    return {name: s for name, s in services.items() if "build" in s}


def test_compose_builds_the_dockerfile_and_sizes_the_replicas():
    services = compose()["services"]
    replicas = replica_services(services)
    assert len(replicas) >= 2, list(services)
    for name, s in replicas.items():
        build = s["build"] if isinstance(s["build"], dict) else {"context": s["build"]}
        context = (COMPOSE.parent / build["context"]).resolve()
        assert context == ROOT, (name, context)
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == ROOT / "Dockerfile"
        assert s.get("image", "lrlab").split(":")[0] == "lrlab"
        assert docker_bytes(s["mem_limit"]) >= STARTUP_RSS + cache_budget_bytes() + CLASS * SESSION_RSS
        if s.get("read_only"):
            assert any(str(t).split(":")[0] == "/tmp" for t in s.get("tmpfs", [])), name


def test_compose_nginx_mounts_the_config_and_matches_the_replicas(tmp_path):
    services = compose()["services"]
    replicas = replica_services(services)
    proxies = [s for s in services.values() if "nginx" in str(s.get("image", ""))]
    assert len(proxies) == 1, "one nginx service"
    proxy = proxies[0]
    mounts = {}
    for volume in proxy["volumes"]:
        source, target = str(volume).split(":")[:2]
        mounts[(COMPOSE.parent / source).resolve()] = target
    target = mounts.get(NGINX_CONF.resolve())
    assert target is not None, f"{NGINX_CONF.relative_to(ROOT)} is not mounted: {proxy['volumes']}"
    assert re.fullmatch(r"/etc/nginx/conf\.d/[\w.-]+\.conf", target), target  # included in http {}
    assert proxy.get("ports"), "nginx publishes a port"
    assert set(proxy.get("depends_on", {})) == set(replicas), "nginx resolves the replicas at start"

    payload = crossplane.parse(str(wrapper(tmp_path, NGINX_CONF)), combine=True)
    http = directives(payload["config"][0]["parsed"], "http")[0]["block"]
    upstream = upstream_servers(http)
    assert len(upstream) == len(replicas), (upstream, list(replicas))
    assert sorted(s.rsplit(":", 1)[0] for s in upstream) == sorted(replicas)


# ---------------------------------------------------------------------------------------------- README


def test_readme_explains_running_and_sessions():
    text = (DEPLOY / "README.md").read_text()
    for needed in ("docker compose", "kubectl apply -f deploy/k8s/", "Students per replica", "rolling update"):
        assert needed in text, needed
