"""A protocol-level Streamlit client for bench/load.py: one browser tab without the browser.

It speaks what the Streamlit front end speaks over ``/_stcore/stream`` (subprotocol ``streamlit``):
it sends ``BackMsg(rerun_script=ClientState(...))`` with the widget values it changed, reads the
``ForwardMsg`` stream until ``script_finished``, and keeps what a tab keeps between runs: the page
being shown, the query string the app wrote, the widgets of the last run (id, kind, proto) and the
cached messages whose hashes it reports back (the server then sends only a reference to them).

Each run is summed up as a :class:`RunResult`: its latency (rerun sent → ``script_finished``),
bytes, the element types it drew, any exception element or "Something went wrong" safety-net
message (app.py), the inline errors (``st.error``: invalid input, not a failure) and the charts.
Uses the protobuf classes of the installed streamlit and the ``websockets`` package (a streamlit
dependency); no streamlit server code runs here.
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: app.py's last safety net turns an unexpected page error into an st.error with this text.
SAFETY_NET_TEXT = "Something went wrong on this page"
#: Cached messages a client keeps (the browser keeps those used in recent runs).
CLIENT_CACHE_ENTRIES = 200
WIDGET_KINDS = ("slider", "selectbox", "number_input", "checkbox", "radio", "text_input", "button")


class ProtocolError(RuntimeError):
    """The server sent something a browser could not have rendered (e.g. an unknown ref_hash)."""


@dataclass
class Widget:
    """A widget drawn in the last run: its id, kind (proto oneof name), user key and proto."""

    id: str
    kind: str
    key: str
    proto: Any
    fragment: str = ""  # the fragment the widget was drawn in ("" = the page itself)

    def current(self) -> Any:
        """The value the server drew the widget with (a number, an option string or a bool); when
        ``set_value`` is false the widget keeps the value the front end holds (Session.current)."""
        p = self.proto
        if self.kind == "slider":
            if p.options:  # select_slider: values are option strings
                if p.raw_value:
                    return p.raw_value[0]
                return p.options[int((p.value if p.set_value else p.default)[0])]
            return (p.value if p.set_value else p.default)[0]
        if self.kind == "number_input":
            return p.value if p.set_value else p.default
        if self.kind in ("selectbox", "radio"):
            if p.raw_value:
                return p.raw_value
            return p.options[p.default] if p.options else None
        if self.kind == "checkbox":
            return p.value if p.set_value else p.default
        return None


def widget_state(widget: Widget, value: Any) -> WidgetState:
    """The WidgetState the front end sends when `widget` takes `value`."""
    ws = WidgetState(id=widget.id)
    if widget.kind == "slider":
        if widget.proto.options:
            ws.string_array_value.data.append(str(value))
        else:
            ws.double_array_value.data.append(float(value))
    elif widget.kind == "number_input":
        ws.double_value = float(value)
    elif widget.kind in ("selectbox", "radio", "text_input"):
        ws.string_value = str(value)
    elif widget.kind == "checkbox":
        ws.bool_value = bool(value)
    elif widget.kind == "button":
        ws.trigger_value = True
    else:
        raise ValueError(f"no widget state for a {widget.kind}")
    return ws


def _decode(v: Any) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        data = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return data.reshape(v["shape"]) if "shape" in v else data
    return np.asarray(v if v is not None else [])


@dataclass
class Chart:
    """What a plotly_chart element carried: trace names and each trace's last x value."""

    key: str
    traces: list[str]
    last_x: list[float | None]
    points: int


def read_chart(key: str, spec: str) -> Chart:
    fig = json.loads(spec)
    names, last_x, points = [], [], 0
    for t in fig.get("data", []):
        names.append(t.get("name"))
        x = _decode(t.get("x"))
        y = _decode(t.get("y"))
        points += int(y.size)
        last_x.append(float(x[-1]) if x.size else None)
    return Chart(key=key, traces=names, last_x=last_x, points=points)


@dataclass
class RunResult:
    """One script run as the client saw it."""

    latency: float = 0.0
    status: str = ""  # "ok" | "compile_error" | "timeout" | "ws_error" | "protocol_error"
    bytes: int = 0
    messages: int = 0
    ref_hits: int = 0
    exceptions: list[str] = field(default_factory=list)
    safety_net: int = 0
    inline_errors: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    elements: int = 0
    error: str = ""
    exec_time: float | None = None  # the script's own run time (s), when the server sends a page profile
    fragment: str = ""  # the fragment this run reran ("" = the whole page)

    @property
    def failed(self) -> bool:
        return self.status != "ok" or bool(self.exceptions) or self.safety_net > 0


class Session:
    """One simulated tab: connect, run the page, change widgets, read the results."""

    def __init__(self, base_url: str, page: str = "", timeout: float = 30.0) -> None:
        self.ws_url = base_url.rstrip("/").replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        self.page_name = page  # url path of the page ("" = the default page)
        self.page_hash = ""
        self.query = ""
        self.timeout = timeout
        self.widgets: dict[str, Widget] = {}  # by user key
        self.changed: dict[str, WidgetState] = {}  # by widget id: what this tab has set
        self.shown: dict[str, Any] = {}  # by widget id: the value the widget shows
        self.cache: OrderedDict[str, ForwardMsg] = OrderedDict()
        self.ws: Any = None
        self.fragment: str | None = None  # the fragment the next run reruns (None: the whole page)

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout, ping_interval=None
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def current(self, key: str) -> Any:
        """The value widget `key` shows now, as the front end tracks it: the value the server last
        forced (``set_value``) or first drew, else the value this tab last sent."""
        return self.shown[self.widgets[key].id]

    def set(self, key: str, value: Any) -> None:
        """Change the widget with user key `key` to `value` (sent with the next run)."""
        w = self.widgets[key]
        self.changed[w.id] = widget_state(w, value)
        self.shown[w.id] = value
        # as the front end does: a widget drawn in a fragment reruns that fragment only (unless this
        # interaction also changed a widget outside it)
        self.fragment = w.fragment if self.fragment in (None, w.fragment) else ""

    def _back_msg(self) -> BackMsg:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.page_script_hash = self.page_hash
        if self.fragment:
            rs.fragment_id = self.fragment
        if not self.page_hash:
            rs.page_name = self.page_name
        rs.widget_states.widgets.extend(self.changed.values())
        rs.cached_message_hashes.extend(self.cache.keys())
        rs.context_info.timezone = "UTC"
        rs.context_info.locale = "en-US"
        return msg

    async def run(self) -> RunResult:
        """Send one rerun with the tab's widget values; read until the script finished."""
        import asyncio

        result = RunResult()
        result.fragment = self.fragment or ""
        t0 = time.perf_counter()
        try:
            await self.ws.send(self._back_msg().SerializeToString())
            self.fragment = None
            result = await asyncio.wait_for(self._read_run(result), self.timeout)
        except TimeoutError:
            result.status = "timeout"
            result.error = f"no script_finished within {self.timeout:.0f} s"
        except websockets.WebSocketException as exc:
            result.status = "ws_error"
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        except OSError as exc:
            result.status = "ws_error"
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        except ProtocolError as exc:
            result.status = "protocol_error"
            result.error = str(exc)[:300]
        result.latency = time.perf_counter() - t0
        # triggers (buttons) fire once; other values stay as the tab's state
        self.changed = {
            wid: s
            for wid, s in self.changed.items()
            if s.WhichOneof("value") != "trigger_value" and wid in {w.id for w in self.widgets.values()}
        }
        return result

    async def _read_run(self, result: RunResult) -> RunResult:
        widgets: dict[str, Widget] = {}
        while True:
            raw = await self.ws.recv()
            result.bytes += len(raw)
            result.messages += 1
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":
                cached = self.cache.get(msg.ref_hash)
                if cached is None:
                    raise ProtocolError(f"server referred to a message this client never cached: {msg.ref_hash}")
                self.cache.move_to_end(msg.ref_hash)
                result.ref_hits += 1
                msg = cached
                kind = msg.WhichOneof("type")
            elif msg.metadata.cacheable and msg.hash:
                self.cache[msg.hash] = msg
                while len(self.cache) > CLIENT_CACHE_ENTRIES:
                    self.cache.popitem(last=False)
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, result, widgets, msg.delta.fragment_id)
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_profile":  # only sent with browser.gatherUsageStats=true
                result.exec_time = msg.page_profile.exec_time / 1e6
            elif kind == "page_not_found":
                result.exceptions.append(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    widgets.clear()  # st.rerun(): the run starts again, its elements come again
                    continue
                result.status = "ok" if status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR else "compile_error"
                if result.fragment:  # a fragment run redraws its fragments only: the page's own widgets stay
                    widgets = {k: w for k, w in self.widgets.items() if not w.fragment and k not in widgets} | widgets
                self.widgets = widgets
                for w in widgets.values():
                    if w.id not in self.shown or getattr(w.proto, "set_value", False):
                        self.shown[w.id] = w.current()
                return result

    def _element(self, el: Any, result: RunResult, widgets: dict[str, Widget], fragment: str = "") -> None:
        result.elements += 1
        kind = el.WhichOneof("type")
        if kind == "exception":
            e = el.exception
            result.exceptions.append(f"{e.type}: {e.message}"[:500])
        elif kind == "alert":
            if SAFETY_NET_TEXT in el.alert.body:
                result.safety_net += 1
            elif el.alert.format == Alert.ERROR:
                result.inline_errors.append(el.alert.body[:200])
        elif kind == "plotly_chart":
            pc = el.plotly_chart
            result.charts.append(read_chart(_user_key(pc.id), pc.spec))
        elif kind in WIDGET_KINDS:
            proto = getattr(el, kind)
            key = _user_key(proto.id)
            if key:
                widgets[key] = Widget(id=proto.id, kind=kind, key=key, proto=proto, fragment=fragment)


def _user_key(widget_id: str) -> str:
    """``$$ID-<hash>-<key>`` → ``key`` (empty for widgets without a user key)."""
    if widget_id.startswith("$$ID-"):
        parts = widget_id.split("-", 2)
        return parts[2] if len(parts) == 3 else ""
    return ""
