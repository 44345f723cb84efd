"""Every page's share link restores the whole view: every widget a user can change, and the chart.

For each page that app.py registers (parsed from its source, so a new page is walked too):

1. open it (a new session, on the app's default page first, as a visitor would);
2. change every widget AppTest finds on it to a value other than the one it holds, pass after pass
   (a change may reveal new widgets: a scheduler's parameters, a second param group), until every
   widget on the page has been changed once;
3. read the query the page wrote (``at.query_params``: the pages write it with
   ``st.query_params.from_dict``, which AppTest sees);
4. open the page in a fresh session with that query;
5. require every widget to hold the same value as before, the same widgets to be there, the first
   chart to be the same figure, and no "ignored" notice.

A widget is either round-tripped or named in :data:`EXCLUDED_TYPES` / :data:`EXCLUDED_KEYS` with the
reason; a widget added later without link support fails the test. A widget of a kind this test
cannot change fails it too (teach :func:`change` the new kind).

Widgets are changed through AppTest's widget API (``set_value``). Select boxes, radio buttons,
select sliders and segmented controls are set by the option's text, the message the browser sends
(their AppTest ``set_value`` wants the underlying value, which AppTest does not expose, and
``Selectbox.select_index`` stores the option's text as its value, which breaks a ``format_func``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import element_tree as et

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGES = re.findall(r'st\.Page\(\s*"(pages/[^"]+\.py)"', APP.read_text())
TIMEOUT_S = 180
MAX_PASSES = 6

#: widget kinds a link does not carry, and why
EXCLUDED_TYPES = {
    "button": "an action, not a setting: what it does shows in the settings it changes, which are carried",
    "download_button": "an action (a download), not a setting",
    "file_uploader": "uploaded data does not travel in a link (the share box says so)",
    "plotly_chart": "the chart, not a setting: its figure is compared instead",
}
#: widgets (by key) a link does not carry, and why
EXCLUDED_KEYS = {
    r"\.import_(text|dataset|devices|batch|steps)$": "the inputs of the import panel's Load button: what Load loads is carried by the "
    "page's own settings",
}

#: pages whose chart shows a result computed when a button is pressed (a sweep, a training run): the link
#: carries the settings and a new visit computes the result, so the button is pressed before comparing
RUN_BUTTONS = {"pages/lr_finder.py": "lf.run", "pages/train.py": "tr.run"}

#: values to give widgets whose generic change would not be a meaningful view (by key)
CHOSEN = {
    r"^pl\.source$": "Paste values",  # "Upload a CSV" holds no data until a file is uploaded
    r"^ref\.filter$": "cosine",
    r"\.expr_0$": "0.9 ** epoch",
    r"\.LambdaLR\.lr_lambda$": "0.9 ** epoch",  # a changed expression, still valid
    r"\.expr_\d$": "0.99",
    r"^pl\.plateaus$": "20, 60",
    r"^pl\.paste$": "1.0, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.7, 0.7, 0.7, 0.7, 0.7",
}


def walk(node: Any) -> Any:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def widgets(at: AppTest) -> dict[str, Any]:
    """Every widget on the page (an element with a widget id), by key (or id)."""
    out = {}
    for node in walk(at._tree):
        if isinstance(node, et.Widget):
            out[node.key or node.id] = node
        elif isinstance(node, et.UnknownElement) and getattr(node.proto, "id", ""):
            out[node.key or node.proto.id] = node
    return out


def excluded(key: str, node: Any) -> str | None:
    if node.type in EXCLUDED_TYPES:
        return EXCLUDED_TYPES[node.type]
    return next((why for pattern, why in EXCLUDED_KEYS.items() if re.search(pattern, key)), None)


def chosen(key: str) -> Any:
    return next((value for pattern, value in CHOSEN.items() if re.search(pattern, key)), None)


def send_option(node: Any, option: str) -> None:
    """Choose the option shown as ``option``, as the browser does: it sends the option's text."""
    state = WidgetState()
    state.id = node.id
    if node.type in ("radio", "selectbox"):
        state.string_value = option
    else:
        state.string_array_value.data[:] = [option]
    node.__class__ = type(f"Chosen{type(node).__name__}", (type(node),), {"_widget_state": property(lambda _: state)})


def other_option(options: list[str], current: str | None, key: str) -> str:
    wanted = chosen(key)
    if wanted is not None:
        assert wanted in options, (key, wanted, options)
        return wanted
    i = options.index(current) if current in options else -1
    return options[(i + 1) % len(options)]


def _number(value: Any, low: Any, high: Any, step: Any, is_int: bool) -> Any:
    if value is None:
        return (low if low is not None else 0) + (step or 1)
    up = value + (step or 1) if is_int or not value else value * 2
    if high is None or up <= high:
        return int(up) if is_int else float(up)
    down = value - (step or 1) if is_int else value / 2
    return int(down) if is_int else float(down)


def change(key: str, node: Any) -> None:
    """Give ``node`` a value other than the one it holds."""
    kind = node.type
    if kind in ("toggle", "checkbox"):
        node.set_value(not node.value)
    elif kind == "selectbox":
        send_option(node, other_option(node.options, node.options[node.index], key))
    elif kind == "radio":
        send_option(node, other_option(node.options, node.options[node.index], key))
    elif kind in ("select_slider", "button_group"):
        current = node.format_func(node.value) if node.value is not None else None
        send_option(node, other_option(node.options, current, key))
    elif kind == "number_input":
        is_int = node.proto.data_type == node.proto.INT
        node.set_value(_number(node.value, node.min, node.max, node.step, is_int))
    elif kind == "slider":
        is_int = node.proto.data_type == node.proto.INT
        node.set_value(_number(node.value, node.min, node.max, node.step, is_int) if is_int else _slide(node))
    elif kind in ("text_input", "text_area"):
        node.set_value(_text(key, node.value))
    elif kind == "multiselect":  # one choice fewer (the last)
        node.set_value(node.value[:-1])
    elif kind == "color_picker":
        node.set_value("#123456" if node.value != "#123456" else "#654321")
    else:
        raise AssertionError(f"{key}: this test cannot change a {kind} yet; teach change() how")


def _slide(node: Any) -> float:
    step = node.step or 0.01
    up = round(node.value + 10 * step, 10)
    return up if up <= node.max else round(node.value - 10 * step, 10)


def _text(key: str, value: str) -> str:
    wanted = chosen(key)
    if wanted is not None:
        return wanted if wanted != value else wanted + " "
    if key.endswith(".text"):  # a parameter given as a list of integers ("30, 80") or child schedulers (JSON)
        try:
            children = json.loads(value)
        except ValueError:
            children = None
        if isinstance(children, list) and children and all(isinstance(c, dict) for c in children):
            bumped = _bump_ints(children)
            assert bumped != children, f"{key}: no integer to change in {value!r}; add it to CHOSEN"
            return json.dumps(bumped, indent=1)  # as the page writes a linked value back into the box
        numbers = [int(v) for v in re.findall(r"\d+", value)]
        assert numbers, f"{key}: no way to change {value!r}; add it to CHOSEN"
        return ", ".join(str(n + 1) for n in numbers)
    return (value or "name") + " 2"


def _bump_ints(value: Any) -> Any:
    """``value`` with every positive integer in it one larger (a child's step counts)."""
    if isinstance(value, dict):
        return {k: _bump_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bump_ints(v) for v in value]
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) and value > 0 else value


def widget_values(at: AppTest) -> dict[str, Any]:
    """Each widget's value; child schedulers typed as JSON by what they say (a link gives them back with
    the keys in order, the formatting of the text is not part of the view)."""
    return {
        k: _as_data(n.value) if k.endswith(".text") else n.value for k, n in widgets(at).items() if not excluded(k, n)
    }


def _as_data(text: Any) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return text
    return value if isinstance(value, list) and value and all(isinstance(c, dict) for c in value) else text


def figure(at: AppTest) -> dict | None:
    charts = at.get("plotly_chart")
    return json.loads(charts[0].proto.spec) if charts else None


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    if page == PAGES[0]:
        for k, v in (query or {}).items():
            at.query_params[k] = v
        return at.run()
    at.run()
    at.query_params.clear()  # a browser clears the query when it moves to another page
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def query_of(at: AppTest) -> dict[str, str]:
    return {k: v[-1] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


CHOICES = ("selectbox", "radio", "button_group")


def change_everything(at: AppTest, fresh: dict[str, Any], *, keep_choices: bool = False) -> set[str]:
    """Change every widget on the page once (new ones appear as others change), then once more those
    that a later change put back to their first value (a preset sets the base lr); returns their keys.
    With ``keep_choices`` the page's choices (scheduler, source, optimizer…) stay, so that the widgets
    shown under its first choices are changed too (a switched choice hides them)."""
    done: set[str] = {k for k, n in widgets(at).items() if keep_choices and n.type in CHOICES}
    again = True
    for _ in range(MAX_PASSES):
        todo = {k: n for k, n in widgets(at).items() if k not in done and not excluded(k, n)}
        todo = {k: n for k, n in todo.items() if not (keep_choices and n.type in CHOICES)}
        if not todo and again:
            again = False
            todo = {k: n for k, n in widgets(at).items() if not excluded(k, n) and k in fresh and n.value == fresh[k]}
            todo = {k: n for k, n in todo.items() if n.type not in ("selectbox", "radio")}  # choices: done once
        if not todo:
            return done
        for key, node in todo.items():
            done.add(key)
            if not getattr(node.proto, "disabled", False):
                change(key, node)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    left = {k for k, n in widgets(at).items() if k not in done and not excluded(k, n)}
    assert not left, f"widgets still appearing after {MAX_PASSES} passes: {sorted(left)}"
    return done


@pytest.mark.parametrize("keep_choices", [False, True], ids=["every widget", "all but the choices"])
@pytest.mark.parametrize("page", PAGES, ids=[Path(p).stem for p in PAGES])
def test_a_link_restores_every_widget_and_the_chart_of_the_page(page: str, keep_choices: bool) -> None:
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    fresh = widget_values(at)
    changed = change_everything(at, fresh, keep_choices=keep_choices)
    if page in RUN_BUTTONS:
        at.button(key=RUN_BUTTONS[page]).click().run()
        assert not at.exception, [e.value for e in at.exception]
    before = widget_values(at)
    chart = figure(at)
    query = query_of(at)
    moved = {k for k in changed if k in before and k in fresh and before[k] != fresh[k]}
    assert moved, "no widget holds another value than on a fresh visit: the test changed nothing"

    restored = open_page(page, query)
    assert not restored.exception, [e.value for e in restored.exception]
    notices = [i.value for i in restored.info if "ignored" in i.value]
    assert not notices, notices
    after = widget_values(restored)
    assert sorted(after) == sorted(before), "the link shows other widgets"
    differ = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not differ, f"not restored by the link {query}: {differ}"
    assert figure(restored) == chart


# ---- bad values in a link, and what a link can't carry ------------------------------------------------


def test_bad_values_in_a_compare_link_are_named_in_the_notice_and_the_rest_still_restores() -> None:
    curves = [
        {"label": "a", "scheduler": "StepLR", "params": {"step_size": 100}, "color": "#ff0000"},
        {"label": "b", "scheduler": "ExponentialLR", "params": {}, "color": "red; background: url(x)"},
        {"label": "c", "scheduler": "ConstantLR", "params": {}},
    ]
    query = {"curves": json.dumps(curves), "log_y": "maybe", "diff_mode": "ratio", "diff_b": "7", "diff_a": "2"}
    at = open_page("pages/compare.py", query)
    assert not at.exception
    notice = " ".join(i.value for i in at.info if "ignored" in i.value).replace("\\", "")
    for bad in ("log_y=maybe", "diff_b=7", "curves[1].color"):
        assert bad in notice, (bad, notice)
    assert "diff_mode" not in notice and "diff_a" not in notice
    assert at.toggle(key="cmp.log_y").value is False
    assert at.radio(key="cmp.diff_mode").value == "ratio"
    assert at.selectbox(key="cmp.diff_a").value == 2  # the third curve (ids are positions on a new visit)
    colours = [t["line"]["color"] for t in figure(at)["data"]]
    assert colours[0] == "#ff0000" and colours[1].startswith("#") and len(colours[1]) == 7


def test_the_plateau_share_box_says_when_the_pasted_values_are_too_long_for_the_link() -> None:
    at = open_page("pages/plateau.py")
    at.session_state["lrlab.share"] = True  # the share box open: the warning is in it
    at.radio(key="pl.source").set_value("paste").run()
    at.text_area(key="pl.paste").set_value(", ".join(["0.5"] * 800)).run()  # 4,000 characters
    assert not at.exception
    assert "paste" not in query_of(at) and query_of(at)["source"] == "paste"
    warnings = [w.value for w in at.warning if "does not carry" in w.value]
    assert len(warnings) == 1 and "pasted values" in warnings[0], [w.value for w in at.warning]
    at.text_area(key="pl.paste").set_value("1, 0.9, 0.8").run()
    assert query_of(at)["paste"] == "1, 0.9, 0.8"
    assert not [w.value for w in at.warning if "does not carry" in w.value]


def test_an_lr_finder_link_restores_the_sgd_momentum_and_names_a_bad_one() -> None:
    at = open_page("pages/lr_finder.py")
    at.number_input(key="lf.momentum").set_value(0.5).run()
    assert query_of(at)["momentum"] == "0.5"
    restored = open_page("pages/lr_finder.py", query_of(at))
    assert restored.number_input(key="lf.momentum").value == 0.5
    assert not [i.value for i in restored.info if "ignored" in i.value]
    bad = open_page("pages/lr_finder.py", {"momentum": "1.5"})
    assert bad.number_input(key="lf.momentum").value == 0.9
    assert any("momentum=1.5" in i.value.replace("\\", "") for i in bad.info)
