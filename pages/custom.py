"""Custom lambda: LambdaLR and MultiplicativeLR with your own expression, evaluated safely."""

import json

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.expr import ALLOWED_TEXT, parse, to_latex
from lrlab.plots import lr_figure
from lrlab.ui import links, state
from lrlab.ui import values as values_table
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, export_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import copy_value, lr_slider, scheduler_label

ensure_router()

P = "cu"
MAX_APP_STEPS = 100_000
EXAMPLES = {
    "LambdaLR": {
        "0.95 ** epoch": "exponential decay (the reference article's λ)",
        "min(1, (epoch + 1) / 100)": "linear warm-up over 100 steps, then constant",
        "min(1, epoch / 100) * 0.5 * (1 + cos(pi * epoch / 1000))": "warm-up, then cosine",
        "0.1 ** floor(epoch / 300)": "step decay ×0.1 every 300 steps",
        "epoch / 100 if epoch < 100 else 1 / sqrt(epoch / 100)": "warm-up, then inverse square root",
        "0.5 * (1 + cos(pi * (epoch % 250) / 250))": "cosine with restarts every 250 steps",
    },
    "MultiplicativeLR": {
        "0.95": "×0.95 every step (the reference article's 0.8 is steeper)",
        "0.999 if epoch < 500 else 0.99": "slow, then faster decay",
        "1.01 if epoch < 100 else 0.995": "grow during warm-up, then decay",
    },
}

st.title("Custom lambda")
st.caption(
    "Type the multiplier as an expression in `epoch` (the scheduler's step index). It runs through a real "
    "`LambdaLR` / `MultiplicativeLR`; the expression is parsed and checked, never executed as Python. "
    + ALLOWED_TEXT[0].upper()
    + ALLOWED_TEXT[1:]
    + "."
)

for key, default in [(f"{P}.scheduler", "LambdaLR"), (f"{P}.steps", 1000), (f"{P}.base_lr", 0.1), (f"{P}.groups", 1)]:
    st.session_state.setdefault(key, default)

LINK = {
    "scheduler": links.Field(f"{P}.scheduler", "LambdaLR", choices=tuple(EXAMPLES)),
    "groups": links.Field(f"{P}.groups", 1, low=1, high=4),
    **links.IMAGE,
}


def expression_fields(name: str) -> dict[str, links.Field]:
    """Each group's expression (``lambda``, ``lambda_1``…), its lr, and the example box, for ``name``."""
    fields = {"lambda": links.Field(f"{P}.{name}.expr_0", next(iter(EXAMPLES[name])), max_len=500)}
    for g in range(1, 4):
        fields[f"lambda_{g}"] = links.Field(f"{P}.{name}.expr_{g}", "1", max_len=500)
        # no default: always carried; any lr a run takes (finite, > 0), as the typed box does
        fields[f"lr_{g}"] = links.Field(f"{P}.lr_{g}", -1.0, low=0.0, high=state.MAX_LR, low_open=True)
    fields["example"] = links.Field(f"{P}.{name}.example", "", choices=("", *EXAMPLES[name]))
    return fields


ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    if "lr_lambda" in query and "lambda" not in query:  # the parameter's own name (errors, exports, Playground links)
        query["lambda"] = query.pop("lr_lambda")
    state.apply_run_values(P, {k: v for k, v in query.items() if k in ("steps", "base_lr")}, MAX_APP_STEPS, ignored)
    links.restore(LINK, query, ignored)
    for key, value in links.restore(expression_fields(st.session_state[f"{P}.scheduler"]), query, ignored).items():
        if key.startswith("lambda"):
            try:
                parse(value, field="lr_lambda" if key == "lambda" else f"lr_lambda[{key[-1]}]")
            except LrlabError as exc:
                ignored.append(str(exc))
                del st.session_state[expression_fields(st.session_state[f"{P}.scheduler"])[key].key]
    unknown = [k for k in query if k not in {"steps", "base_lr", *LINK, *expression_fields("LambdaLR")}]
    ignored.extend(f"{k} (not a setting of this page)" for k in unknown)
state.notice(ignored)

top = input_row("run", lead=True).columns([2, 1, 1.4, 1])
name = top[0].radio("Scheduler", list(EXAMPLES), key=f"{P}.scheduler", format_func=scheduler_label)
spec = SCHEDULERS[name]
steps = int(top[1].number_input("Steps", 1, MAX_APP_STEPS, step=100, key=f"{P}.steps"))
base_lr = lr_slider(
    top[2],
    "Base LR (group 0)",
    key=f"{P}.base_lr",
)
groups = int(top[3].number_input("Param groups", 1, 4, key=f"{P}.groups"))

left, right = chart_first().columns([1, 2.2], gap="large")
texts: list[str] = []
group_lrs: list[float] = []
errors: dict[int, str] = {}
with left:
    for g in range(groups):
        expr_key = f"{P}.{name}.expr_{g}"
        st.session_state.setdefault(expr_key, next(iter(EXAMPLES[name])) if g == 0 else "1")
        st.markdown(f"**Group {g}**")
        if g > 0:
            st.session_state.setdefault(f"{P}.lr_{g}", float(base_lr) if base_lr else 0.1)
            group_lrs.append(lr_slider(st, f"lr of group {g}", key=f"{P}.lr_{g}"))
        text = st.text_input(f"λ{'' if groups == 1 else g}(epoch)", key=expr_key, max_chars=500)
        texts.append(text)
        try:
            parse(text, field=f"lr_lambda[{g}]" if groups > 1 else "lr_lambda")
        except LrlabError as exc:
            errors[g] = str(exc)
            st.error(plain(exc), icon=":material/error:")
    st.selectbox(
        "Examples (fill group 0)",
        ["", *EXAMPLES[name]],
        key=f"{P}.{name}.example",
        on_change=copy_value,
        args=(f"{P}.{name}.example", f"{P}.{name}.expr_0"),
        help="Pick one to put it into group 0's box: " + "; ".join(f"{k} — {v}" for k, v in EXAMPLES[name].items()),
    )

shared = {k: v for k, v in (("steps", steps), ("base_lr", float(base_lr))) if v != {"steps": 1000, "base_lr": 0.1}[k]}
shared.update(links.values(LINK))
shared.update(
    links.values(expression_fields(name), only={"lambda", "example", *(f"lambda_{g}" for g in range(1, groups))})
)
shared.update({f"lr_{g}": lr for g, lr in enumerate(group_lrs, start=1)})
state.write_query(shared)
with left:
    state.show_share(shared)

params = {"lr_lambda": texts[0] if groups == 1 else texts}
config = ScheduleConfig.make(name, params, steps=steps, base_lr=float(base_lr), group_lrs=tuple(group_lrs))
curve = None
run_error = None
if not errors:
    try:
        curve = cached_curve(config)
        st.session_state[f"{P}.last_good"] = config.to_json()
    except LrlabError as exc:
        run_error = str(exc)
if curve is None and st.session_state.get(f"{P}.last_good"):
    curve = cached_curve(ScheduleConfig.from_dict(json.loads(st.session_state[f"{P}.last_good"])))

with right:
    if run_error:
        st.error(plain(run_error), icon=":material/error:")
    if curve is None:
        st.info("Fix the expression on the left to see its curve.")
        st.stop()
    if errors or run_error:
        st.info("Showing the last valid expression until the error is fixed.")
    st.plotly_chart(lr_figure(curve), width="stretch", key=f"{P}.chart", config=chart_config())
    if curve.first_diff_step is None:
        st.success(
            f"The vectorised expression matches the real {curve.spec.name} on every step "
            f"(max relative difference {curve.max_rel_diff:.1e}).",
            icon=":material/check_circle:",
        )
    else:
        st.warning(f"The closed form differs from the library from step {curve.first_diff_step}.")
    for note in curve.notes:
        st.warning(plain(note))
    values_table.show(None, curve.frame, explainable=False)

st.divider()
form_col, code_col = st.columns([1, 1.2], gap="large")
with form_col:
    st.subheader("Formula")
    st.latex(curve.spec.formula)
    shown = curve.params["lr_lambda"]
    for g, text in enumerate(shown if isinstance(shown, tuple) else (shown,)):
        label = r"\lambda" if not isinstance(shown, tuple) else rf"\lambda_{{{g}}}"
        st.latex(rf"{label}(\mathit{{epoch}}) = {to_latex(parse(text))}")
    st.markdown("\n".join(f"- {n}" for n in curve.spec.notes))
with code_col:
    export_panel(curve.config, curve, P)
