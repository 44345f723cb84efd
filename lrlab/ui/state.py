"""Page state in the URL: every page can be shared as a link, and a link restores it.

Values travel as flat query keys (``?scheduler=StepLR&steps=1000&gamma=0.5``) or, for lists of
configurations, one JSON value. They are read with :func:`lrlab.specs.parse_value` (JSON literals,
else plain text; never pickle) and validated through the specs before they reach a widget: an
unknown or invalid value is dropped, the widget keeps its default, and the page shows what was
ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st

from lrlab.schedulers import SCHEDULERS, get_spec
from lrlab.specs import MAX_LR, LrlabError, SchedulerSpec, format_value, is_lr, parse_value

__all__ = ["MAX_LR", "parse_value"]  # re-exported for pages (MAX_LR: the largest lr a run takes)
from lrlab.ui.text import plain
from lrlab.ui.widgets import seed_params

MAX_QUERY_CHARS = 20_000  # a link longer than this is not read (a visitor can't make us parse megabytes)


def first_run(page: str) -> bool:
    """True once per session and page: the moment to read the URL."""
    flag = f"__url_loaded.{page}"
    if st.session_state.get(flag):
        return False
    st.session_state[flag] = True
    return True


def read_query() -> dict[str, str]:
    query = st.query_params.to_dict()
    if sum(len(k) + len(v) for k, v in query.items()) > MAX_QUERY_CHARS:
        return {}
    return query


def write_query(values: dict[str, Any]) -> None:
    """Replace the URL's query with ``values`` (flat text), only when it changed."""
    flat = {k: format_value(v) for k, v in values.items()}
    if st.query_params.to_dict() != flat:
        st.query_params.from_dict(flat)


def plan_link(values: dict[str, Any], page: str = "my_run") -> str:
    """A link to another page (My run) with the schedule in ``values`` as its plan: relative, so it
    works wherever the app is served."""
    return f"{page}?{urlencode({k: format_value(v) for k, v in values.items()})}"


def share_link(values: dict[str, Any]) -> str:
    """The full link to this page with ``values`` in its query string."""
    try:
        parts = urlsplit(st.context.url or "")
        base = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else ""
    except Exception:  # no browser context (AppTest)
        base = ""
    return f"{base}?{urlencode({k: format_value(v) for k, v in values.items()})}"


def show_share(values: dict[str, Any], not_carried: tuple[str, ...] | list[str] = ()) -> None:
    """A "share" expander with the link in a code box (which has a copy button); ``not_carried`` names
    what the view holds that the link can't carry (an uploaded file, say).

    The box is drawn only while the expander is open (``on_change="rerun"``: opening it reruns the page,
    or its fragment). ``st.code`` brings Streamlit's syntax highlighter, a 1.5 MB script that a closed
    box made every visitor's browser fetch and compile before the first chart: a fresh visit to a
    one-chart app took 2.8 s, 4.6 s with a closed code box in an expander (Chromium 156, this machine)."""
    share = st.expander("Share this view", icon=":material/link:", key="lrlab.share", on_change="rerun")
    if not share.open:
        return
    with share:
        st.caption("Anyone who opens this link sees the same curves. The address bar keeps it up to date too.")
        st.code(share_link(values), language=None, wrap_lines=True)
        if not_carried:
            st.warning("This link does not carry " + "; ".join(not_carried) + ".", icon=":material/link_off:")


def notice(ignored: list[str]) -> None:
    if ignored:
        st.info(
            "Some values in the link were ignored: "
            + plain("; ".join(ignored[:6]))
            + ("…" if len(ignored) > 6 else ""),
            icon=":material/link_off:",
        )


def allowed_text(allowed: tuple) -> str:
    """What :func:`checked_values` accepts for one key, in words: ``an integer from 1 to 1000000``,
    ``one of 'mlp', 'cnn'``, ``true or false``."""
    if _int_range(allowed):
        return f"an integer from {allowed[0]} to {allowed[1]}"
    if set(allowed) == {True, False} and all(isinstance(a, bool) for a in allowed):
        return "true or false"
    return "one of " + ", ".join(repr(a) if isinstance(a, str) else str(a) for a in allowed)


def _int_range(allowed: tuple) -> bool:
    return len(allowed) == 2 and all(isinstance(a, int) and not isinstance(a, bool) for a in allowed)


def refused(key: str, raw: object, allowed: str) -> str:
    """How a notice names a refused link value: the field, the value as linked, what is allowed."""
    return f"{key}={raw!s:.30} ({allowed})"


def checked_values(query: dict[str, str], limits: dict[str, tuple], ignored: list[str]) -> dict[str, Any]:
    """The query values named in ``limits`` that are allowed: integers within a ``(low, high)`` pair
    of integers, else one of the listed choices. Everything else is reported in ``ignored``, with
    what is allowed."""
    out = {}
    for key, allowed in limits.items():
        if key not in query:
            continue
        value = parse_value(query[key])
        if _int_range(allowed):
            ok = isinstance(value, int) and not isinstance(value, bool) and allowed[0] <= value <= allowed[1]
        else:
            ok = any(value == a and type(value) is type(a) for a in allowed)
        if ok:
            out[key] = value
        else:
            ignored.append(refused(key, query[key], allowed_text(allowed)))
    return out


LR_ALLOWED = "a finite number > 0"  # lrlab.specs.LR_RULE, as a notice words it
RUN_KEYS = {  # what a link may set besides the scheduler and its parameters
    "steps": (int, 1, None),
    "base_lr": (float, 0.0, MAX_LR),  # as lrlab.specs.validate_run: finite, > 0
    "steps_per_epoch": (int, 1, None),
}
OPTIMIZERS = ("sgd", "adam", "adamw", "adagrad")


def lr_value(raw: str) -> float | None:
    """A learning rate from a link (any finite number > 0, as a run takes), or None."""
    value = parse_value(raw)
    if is_lr(value):
        return float(value)
    return None


def apply_run_values(prefix: str, query: dict[str, str], max_steps: int, ignored: list[str]) -> None:
    """Seed the run-level widgets (steps, base LR, steps per epoch, optimizer) from a query."""
    for key, (kind, low, high) in RUN_KEYS.items():
        if key not in query:
            continue
        value = parse_value(query[key])
        high = max_steps if high is None else high
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
        ok = ok and (key != "base_lr" or value > 0)
        if ok and (kind is float or (isinstance(value, int) or float(value).is_integer())):
            st.session_state[f"{prefix}.{key}"] = kind(value)
        else:
            allowed = LR_ALLOWED if kind is float else f"an integer from {low} to {high}"
            ignored.append(refused(key, query[key], allowed))
    if "optimizer" in query:
        if query["optimizer"] in OPTIMIZERS:
            st.session_state[f"{prefix}.optimizer"] = query["optimizer"]
        else:
            ignored.append(refused("optimizer", query["optimizer"], allowed_text(OPTIMIZERS)))


def apply_params(
    spec: SchedulerSpec, prefix: str, query: dict[str, str], steps: int, ignored: list[str], skip: set[str]
) -> None:
    """Seed a scheduler's parameter widgets from the query; report keys that are not its params."""
    values = {}
    names = {p.name: p for p in spec.params if p.name != spec.base_lr_param}
    for key, raw in query.items():
        if key in skip:
            continue
        if key not in names:
            ignored.append(f"{key} (not a parameter of {spec.name})")
            continue
        try:
            values[key] = names[key].coerce(names[key].parse(raw), steps)
        except LrlabError as exc:
            ignored.append(str(exc))
    seed_params(spec, prefix, values)


def scheduler_from_query(query: dict[str, str], ignored: list[str]) -> SchedulerSpec | None:
    if "scheduler" not in query:
        return None
    try:
        return get_spec(query["scheduler"])
    except LrlabError:
        ignored.append(f"scheduler={query['scheduler']!s:.40} (unknown; {len(SCHEDULERS)} are known)")
        ignored.extend(
            f"{key} (for the unknown scheduler)"
            for key in query
            if key not in {*RUN_KEYS, "scheduler", "optimizer", "interval"}
        )
        return None
