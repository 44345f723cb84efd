r"""Registry entries for ``keras.optimizers.schedules`` (Keras 3.15, torch backend).

A Keras schedule is a function of the optimizer's iteration count: ``optimizer.learning_rate`` is
``schedule(optimizer.iterations)``, read before each update (row ``t`` = ``schedule(t)``) in
float32. The real schedule is driven by :mod:`lrlab.schedulers._keras_drive`; this module holds the
parameters (Keras's own names), the float64 closed forms, the formulas, the explainers and the
exported Keras script. Keras is imported on first use only.

The schedule holds the learning rate itself: ``initial_learning_rate`` is the run's base lr
(``base_lr_param``). PiecewiseConstantDecay holds its lrs in ``values`` (a ``float_list``) and ignores
the run's base lr.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lrlab.explaining import Part, Step, num
from lrlab.specs import (
    MAX_LR,
    MAX_STEPS,
    Driven,
    LrlabError,
    ParamSpec,
    RunContext,
    ScheduleConfig,
    SchedulerSpec,
    invalid,
)

DOCS = "https://keras.io/api/optimizers/learning_rate_schedules/{}/"
P = Mapping[str, Any]
#: Largest float32: a growing ExponentialDecay beyond it is inf in Keras.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Keras computes in float32, lrlab's closed form in float64 from the numbers Keras rounds to float32 (the
#: parameters, and the fraction t / D that a decay's exponent amplifies). Largest relative difference
#: measured over 300–400 random configs per schedule (tests/test_lib_keras.py measures it again): 1.4e-7
#: (one float32 rounding); 1e-6 leaves a margin of 7.
TOLERANCE = 1e-6
#: Where Keras's float32 ``1 + cos(…)`` or ``1 − p`` cancels (a cosine or polynomial decay ending at or
#: crossing a small lr), its result is off by up to 1.3 float32 ulps of the largest lr its arithmetic
#: handles (:func:`rounding_scale`): there a difference within 4 such ulps is rounding, not a disagreement.
NOISE = 4 * float(np.finfo(np.float32).eps)
#: The schedules whose float32 arithmetic cancels (see :data:`NOISE`); the others only multiply and divide.
CANCELLING = frozenset({"CosineDecay", "CosineDecayRestarts", "PolynomialDecay"})


def rounding_scale(p: P, base_lr: float) -> float:
    """The largest lr Keras's float32 arithmetic handles for these params: its rounding is a few float32
    ulps of this, also where the curve itself stays far below it (a short run of a PolynomialDecay
    rising to a large end_learning_rate)."""
    lrs = [base_lr, p.get("warmup_target") or 0.0, p.get("end_learning_rate", 0.0), *p.get("values", ())]
    return max(abs(float(v)) for v in lrs)


def rounding_noise(name: str, p: P, base_lr: float) -> float:
    """The absolute difference that is float32 rounding for this schedule (0 where nothing cancels)."""
    return NOISE * rounding_scale(p, base_lr) if name.split(":")[-1] in CANCELLING else 0.0


FLOAT32_NOTE = (
    "Keras computes in float32: lrlab's float64 closed form (from the float32 numbers Keras rounds to: the "
    f"parameters and t / decay_steps) agrees to {TOLERANCE:g} relative."
)
CANCEL_NOTE = (
    "Near the end of a decay to 0 Keras's float32 1 + cos(…) or 1 − t/D cancels: there its lr is off by up to "
    "~1e-7 of the largest lr (a float32 ulp), which is a large share of the tiny lr itself."
)
DRIVE_NOTE = (
    "Read as a Keras optimizer reads it: row t is schedule(t), t being optimizer.iterations (an int32 variable on "
    "the torch backend) before the (t+1)-th update."
)
BASE_LR_LEGEND = (r"\eta_0", "initial_learning_rate (the run's base lr)")


def _f32(x: float) -> float:
    """``x`` as Keras holds it: cast to float32 (``ops.cast(…, dtype)`` / ``convert_to_tensor``)."""
    return float(np.float32(x))


def _steps_param(name: str, default: Any, help: str, symbol: str, low: int = 1) -> ParamSpec:
    return ParamSpec(name, "int", default, help, low=low, high=MAX_STEPS, symbol=symbol)


# ---- closed forms: numpy float64 over an int array of steps -----------------------------------------------


def cosine_decay(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """CosineDecay: a linear warm-up from η₀ to warmup_target (only when warmup_target is set), then
    the cosine from the warm-up's target (else η₀) down to α times it over decay_steps; flat after."""
    lr0 = _f32(lr0)
    big_d, target, w = p["decay_steps"], p["warmup_target"], p["warmup_steps"]
    one_minus, alpha = _f32(1 - p["alpha"]), _f32(p["alpha"])
    t = np.asarray(t, dtype=np.float64)
    if target is None:
        s = np.minimum(t, big_d)
        return lr0 * (one_minus * 0.5 * (1.0 + np.cos(math.pi * s / big_d)) + alpha)
    target = _f32(target)
    s = np.minimum(t, big_d + w)
    with np.errstate(divide="ignore", invalid="ignore"):
        warm = _f32(target - lr0) * (s / w) + lr0
    decay = target * (one_minus * 0.5 * (1.0 + np.cos(math.pi * (s - w) / big_d)) + alpha)
    return np.where(s < w, warm, decay)


def fraction32(t: np.ndarray, span: Any) -> np.ndarray:
    """t / span rounded to float32 as Keras divides (an IEEE division: numpy's float32 gives the same
    number), returned as float64: the exponent of a decay amplifies this rounding, so the closed form
    takes it from Keras rather than adding its own."""
    return (np.asarray(t, dtype=np.float32) / np.asarray(span, dtype=np.float32)).astype(np.float64)


def restart_index(t: np.ndarray, first_decay_steps: int, t_mul: float) -> tuple[np.ndarray, np.ndarray]:
    """(i, f_i): the cycle step t is in (cycle i lasts t_mul^i · first_decay_steps) and the fraction of
    it done, rounded as Keras's float32 arithmetic rounds them.

    After many cycles the fraction is a small difference of large float32 numbers (f − i, or f minus the
    cycles done), so Keras's rounding moves the lr by up to ~1e-4 of it: the closed form takes the float32
    operations (IEEE, which numpy rounds exactly as torch does) and correctly rounded logarithms from
    Keras's formula, and float64 for the rest."""
    f = np.asarray(t, dtype=np.float32) / np.float32(first_decay_steps)
    tm = np.float32(t_mul)
    if tm == 1:
        i = np.floor(f)
        return i.astype(np.float64), (f - i).astype(np.float64)
    inside = np.float32(1) - f * (np.float32(1) - tm)
    ratio = np.log(inside.astype(np.float64)).astype(np.float32) / np.float32(math.log(float(tm)))
    i = np.floor(ratio).astype(np.float64)
    power = (float(tm) ** i).astype(np.float32)
    done = (np.float32(1) - power) / (np.float32(1) - tm)
    return i, ((f - done) / power).astype(np.float64)


def cosine_decay_restarts(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """CosineDecayRestarts (SGDR): cosine cycles, each t_mul times longer and m_mul times higher."""
    lr0, alpha, m_mul = _f32(lr0), _f32(p["alpha"]), _f32(p["m_mul"])
    one_minus = _f32(1 - alpha)
    i, frac = restart_index(t, p["first_decay_steps"], p["t_mul"])
    cosine = 0.5 * m_mul**i * (1.0 + np.cos(math.pi * frac))
    return lr0 * (one_minus * cosine + alpha)


def _exponent(t: np.ndarray, p: P) -> np.ndarray:
    e = fraction32(t, p["decay_steps"])
    return np.floor(e) if p["staircase"] else e


def exponential_decay(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """ExponentialDecay: η₀ · r^(t / D), the exponent floored with staircase."""
    with np.errstate(over="ignore"):
        return _f32(lr0) * _f32(p["decay_rate"]) ** _exponent(t, p)


def inverse_time_decay(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """InverseTimeDecay: η₀ / (1 + r · t / D), t / D floored with staircase."""
    return _f32(lr0) / (1.0 + _f32(p["decay_rate"]) * _exponent(t, p))


def polynomial_decay(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """PolynomialDecay: (η₀ − η_end)(1 − s / D′)^power + η_end; with cycle D′ is the first multiple of
    D at or past t (D at t = 0), else s = min(t, D) and D′ = D."""
    lr0, end, power = _f32(lr0), _f32(p["end_learning_rate"]), _f32(p["power"])
    big_d = p["decay_steps"]
    t = np.asarray(t, dtype=np.float64)
    if p["cycle"]:
        span = big_d * np.where(t == 0, 1.0, np.ceil(t / big_d))
        s = t
    else:
        span = np.full_like(t, float(big_d))
        s = np.minimum(t, big_d)
    left = (np.float32(1) - fraction32(s, span).astype(np.float32)).astype(np.float64)  # Keras's float32 1 − p
    return _f32(lr0 - end) * left**power + end


def piecewise_constant_decay(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """PiecewiseConstantDecay: values[i] for boundaries[i−1] < t ≤ boundaries[i] (after the boundary)."""
    index = np.searchsorted(np.asarray(p["boundaries"]), np.asarray(t), side="left")
    return np.asarray([_f32(v) for v in p["values"]])[index]


# ---- rules ------------------------------------------------------------------------------------------


def _exponential_rule(values: P, ctx: RunContext) -> None:
    rate = values["decay_rate"]
    if rate > 1:
        last = float(_exponent(np.array([ctx.steps - 1]), values)[0])
        if math.log(_f32(ctx.base_lr)) + last * math.log(_f32(rate)) >= math.log(FLOAT32_MAX):
            raise invalid(
                "decay_rate",
                rate,
                f"grows the lr past float32's largest number (3.4e38) within the run of {ctx.steps} steps "
                "(Keras would return inf); use a smaller decay_rate or a larger decay_steps",
            )


def _piecewise_rule(values: P, ctx: RunContext) -> None:
    boundaries, lrs = values["boundaries"], values["values"]
    if not boundaries:
        raise invalid(
            "boundaries",
            list(boundaries),
            "must hold at least one step (Keras reads boundaries[0] when called: IndexError)",
        )
    if any(b >= c for b, c in itertools.pairwise(boundaries)):
        raise invalid(
            "boundaries",
            list(boundaries),
            "must be strictly increasing (Keras does not check: where ranges overlap it adds their values up)",
        )
    if len(lrs) != len(boundaries) + 1:
        raise invalid(
            "values",
            list(lrs),
            f"must hold one value more than boundaries ({len(boundaries)} boundaries, {len(lrs)} values; Keras: "
            "The length of boundaries should be 1 less than the length of values)",
        )


# ---- driving the real schedule -------------------------------------------------------------------------

KERAS_ARGS: dict[str, tuple[str, ...]] = {
    "CosineDecay": ("decay_steps", "alpha", "warmup_target", "warmup_steps"),
    "CosineDecayRestarts": ("first_decay_steps", "t_mul", "m_mul", "alpha"),
    "ExponentialDecay": ("decay_steps", "decay_rate", "staircase"),
    "InverseTimeDecay": ("decay_steps", "decay_rate", "staircase"),
    "PolynomialDecay": ("decay_steps", "end_learning_rate", "power", "cycle"),
    "PiecewiseConstantDecay": ("boundaries", "values"),
}


def keras_kwargs(name: str, p: P, base_lr: float) -> dict[str, Any]:
    """The keyword arguments of ``keras.optimizers.schedules.<name>``, Keras's names and types."""
    kwargs: dict[str, Any] = {} if name == "PiecewiseConstantDecay" else {"initial_learning_rate": float(base_lr)}
    for arg in KERAS_ARGS[name]:
        value = p[arg]
        kwargs[arg] = list(value) if isinstance(value, tuple) else value
    return kwargs


def build_schedule(name: str, p: P, ctx: RunContext) -> Any:
    """The real Keras schedule object for these params (Keras imported here, on first use)."""
    from lrlab.schedulers._keras_drive import make

    return make(name, **keras_kwargs(name, p, ctx.base_lr))


def _driver(name: str) -> Callable[[P, RunContext, ScheduleConfig], Driven]:
    def drive(p: P, ctx: RunContext, config: ScheduleConfig) -> Driven:
        from lrlab.schedulers._keras_drive import evaluate

        schedule = build_schedule(name, p, ctx)
        lrs = evaluate(schedule, ctx.steps).astype(np.float64).reshape(ctx.steps, 1)
        notes = []
        if name == "CosineDecay" and p["warmup_target"] is None and p["warmup_steps"] > 0:
            notes.append(
                f"Keras ignores warmup_steps ({p['warmup_steps']}) while warmup_target is None: there is no warm-up."
            )
        return Driven(lrs=lrs, notes=tuple(notes))

    return drive


def _build_unavailable(optimizer: Any, p: P, ctx: RunContext) -> Any:
    """A Keras schedule can't drive a torch optimizer (e.g. as a SequentialLR child): say so by name."""
    raise LrlabError(
        "A Keras schedule is a function of a Keras optimizer's step, not a torch LRScheduler: it can't drive a torch "
        "optimizer or be a child of SequentialLR / ChainedScheduler",
        field="scheduler",
    )


# ---- the exported script ------------------------------------------------------------------------------

SCRIPT = '''"""keras.optimizers.schedules.{name} in a Keras optimizer (exported by lrlab)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before the first `import keras`

import keras

schedule = keras.optimizers.schedules.{name}(
{args}
)
optimizer = keras.optimizers.SGD(learning_rate=schedule)


def train(steps={steps}, steps_per_epoch={steps_per_epoch}):
    """Minimise 0.5 * ||w||^2 with real gradient updates; return the learning rate of every update."""
    w = keras.Variable([1.0, -2.0, 0.5], name="w")
    lrs = []
    for epoch in range(-(-steps // steps_per_epoch)):
        for batch in range(min(steps_per_epoch, steps - len(lrs))):
            # optimizer.learning_rate is schedule(optimizer.iterations): the lr this update uses
            lrs.append(float(optimizer.learning_rate))
            gradient = keras.ops.multiply(w, 1.0)  # d/dw 0.5 * ||w||^2 = w
            optimizer.apply_gradients([(gradient, w)])
    return lrs


if __name__ == "__main__":
    for step, lr in enumerate(train()):
        print(step, lr)
'''


def _literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _exporter(name: str) -> Callable[[ScheduleConfig, P, RunContext], str]:
    def export(config: ScheduleConfig, p: P, ctx: RunContext) -> str:
        args = "\n".join(f"    {k}={_literal(v)}," for k, v in keras_kwargs(name, p, ctx.base_lr).items())
        return SCRIPT.format(name=name, args=args, steps=config.steps, steps_per_epoch=config.steps_per_epoch)

    return export


# ---- explainers ----------------------------------------------------------------------------------------


def _value(closed: Callable[..., np.ndarray], s: Step) -> float:
    return float(closed(np.array([s.k]), s.lr0, s.params, s.ctx)[0])


def _eta(s: Step) -> str:
    return rf"\eta_{{{s.k}}}"


def _cosine_decay_explained(s: Step) -> Part:
    p, k, lr0 = s.params, s.k, s.lr0
    big_d, alpha, target, w = p["decay_steps"], p["alpha"], p["warmup_target"], p["warmup_steps"]
    value = _value(cosine_decay, s)
    given: list[tuple[str, Any]] = [("t", k), ("D", big_d), (r"\alpha", alpha), (r"\eta_0", lr0)]
    notes: tuple[str, ...] = ()
    if target is None:
        if w:
            notes = (f"warmup_steps = {w} is ignored: Keras warms up only when warmup_target is set.",)
        sc = min(k, big_d)
        lines = (
            rf"s = \min(t, D) = {sc}",
            rf"{_eta(s)} = \eta_0\left((1-\alpha)\tfrac12\left(1+\cos\tfrac{{\pi s}}{{D}}\right)+\alpha\right)"
            rf" = {num(lr0)}\left({num(1 - alpha)} \cdot \tfrac12\left(1+\cos\tfrac{{{sc}\pi}}{{{big_d}}}\right)"
            rf"+{num(alpha)}\right) = {num(value)}",
        )
        if k == 0:
            sentence, event = "The first update uses initial_learning_rate: the cosine starts at its top.", "start"
        elif k < big_d:
            sentence, event = f"The cosine decay is {k} of {big_d} steps along, toward α·η₀.", "anneal"
        else:
            sentence, event = f"Past decay_steps = {big_d} the lr stays at α·η₀ = {value:.4g}.", "hold"
        return Part(value, tuple(given), lines, sentence, event, notes=notes)
    given += [(r"\eta_w", target), ("W", w)]
    sc = min(k, big_d + w)
    clamp = rf"s = \min(t, D + W) = {sc}"
    if sc < w:
        lines = (
            clamp,
            rf"s < W:\ {_eta(s)} = \eta_0 + (\eta_w - \eta_0)\tfrac{{s}}{{W}} = {num(lr0)} + "
            rf"({num(target)} - {num(lr0)})\tfrac{{{sc}}}{{{w}}} = {num(value)}",
        )
        if k == 0:
            sentence, event = "The warm-up starts at initial_learning_rate, rising linearly to warmup_target.", "start"
        else:
            sentence, event = f"The linear warm-up is {k} of {w} steps along, toward warmup_target.", "warmup"
        return Part(value, tuple(given), lines, sentence, event)
    lines = (
        clamp,
        rf"s \ge W:\ {_eta(s)} = \eta_w\left((1-\alpha)\tfrac12\left(1+\cos\tfrac{{\pi (s-W)}}{{D}}\right)+\alpha\right)"
        rf" = {num(target)}\left({num(1 - alpha)} \cdot \tfrac12\left(1+\cos\tfrac{{{sc - w}\pi}}{{{big_d}}}\right)"
        rf"+{num(alpha)}\right) = {num(value)}",
    )
    if k == w:
        sentence, event = (
            f"The warm-up ended at warmup_steps = {w}: the cosine decay starts at warmup_target.",
            "warmup end",
        )
    elif k < w + big_d:
        sentence, event = f"The cosine decay is {k - w} of {big_d} steps along, toward α·warmup_target.", "anneal"
    else:
        sentence, event = f"Past warmup_steps + decay_steps = {w + big_d} the lr stays at α·warmup_target.", "hold"
    return Part(value, tuple(given), lines, sentence, event)


def _restarts_explained(s: Step) -> Part:
    p, k, lr0 = s.params, s.k, s.lr0
    d1, t_mul, m_mul, alpha = p["first_decay_steps"], p["t_mul"], p["m_mul"], p["alpha"]
    value = _value(cosine_decay_restarts, s)
    f = k / d1
    i_arr, frac_arr = restart_index(np.array([k]), d1, t_mul)
    i, frac = int(i_arr[0]), float(frac_arr[0])
    if t_mul == 1:
        index_line = (
            rf"f = \tfrac{{t}}{{D_1}} = {num(f)},\quad i = \lfloor f \rfloor = {i},\quad f_i = f - i = {num(frac)}"
        )
    else:
        index_line = (
            rf"f = \tfrac{{t}}{{D_1}} = {num(f)},\quad i = \left\lfloor \tfrac{{\log(1 - f(1 - T))}}{{\log T}} \right\rfloor"
            rf" = {i},\quad f_i = \tfrac{{f - (1 - T^i)/(1 - T)}}{{T^i}} = {num(frac)}"
        )
    lines = (
        index_line,
        rf"{_eta(s)} = \eta_0\left((1-\alpha)\tfrac12 M^i(1+\cos \pi f_i)+\alpha\right) = {num(lr0)}\left({num(1 - alpha)}"
        rf" \cdot \tfrac12 \cdot {num(m_mul)}^{{{i}}}(1+\cos({num(frac)}\pi))+{num(alpha)}\right) = {num(value)}",
    )
    length = d1 * _f32(t_mul) ** i
    if k == 0:
        sentence, event = "The first cycle starts at initial_learning_rate.", "start"
    elif frac == 0:
        sentence, event = f"A warm restart: cycle {i} starts at m_mul^{i} of the first peak.", "restart"
    else:
        sentence, event = f"Cycle {i} (about {length:.4g} steps long) is {frac:.1%} along its cosine.", "anneal"
    return Part(
        value,
        (("t", k), ("D_1", d1), ("T", t_mul), ("M", m_mul), (r"\alpha", alpha), (r"\eta_0", lr0)),
        lines,
        sentence,
        event,
    )


def _exponent_line(s: Step) -> tuple[float, str]:
    p, k = s.params, s.k
    e = float(_exponent(np.array([k]), p)[0])
    if p["staircase"]:
        return (
            e,
            rf"e = \left\lfloor \tfrac{{t}}{{D}} \right\rfloor = \left\lfloor \tfrac{{{k}}}{{{p['decay_steps']}}} \right\rfloor = {num(e)}",
        )
    return e, rf"e = \tfrac{{t}}{{D}} = \tfrac{{{k}}}{{{p['decay_steps']}}} = {num(e)}"


def _decay_sentence(s: Step, e: float, what: str) -> tuple[str, str]:
    if s.k == 0:
        return "The first update uses initial_learning_rate.", "start"
    if s.params["staircase"]:
        if s.k % s.params["decay_steps"] == 0:
            return (
                f"Staircase: step {s.k} is a multiple of decay_steps, so the lr {what} once more ({int(e)} times now).",
                "decay",
            )
        return "Staircase: the lr holds until the next multiple of decay_steps.", "hold"
    return f"The lr {what} continuously, by a fraction of a decay every step.", "decay"


def _exponential_explained(s: Step) -> Part:
    p, lr0 = s.params, s.lr0
    e, line = _exponent_line(s)
    value = _value(exponential_decay, s)
    lines = (
        line,
        rf"{_eta(s)} = \eta_0\, r^{{e}} = {num(lr0)} \times {num(p['decay_rate'])}^{{{num(e)}}} = {num(value)}",
    )
    sentence, event = _decay_sentence(s, e, "is multiplied by decay_rate")
    given = (("t", s.k), ("D", p["decay_steps"]), ("r", p["decay_rate"]), (r"\eta_0", lr0))
    return Part(value, given, lines, sentence, event)


def _inverse_time_explained(s: Step) -> Part:
    p, lr0 = s.params, s.lr0
    e, line = _exponent_line(s)
    value = _value(inverse_time_decay, s)
    lines = (
        line,
        rf"{_eta(s)} = \frac{{\eta_0}}{{1 + r e}} = \frac{{{num(lr0)}}}{{1 + {num(p['decay_rate'])} \times {num(e)}}} = {num(value)}",
    )
    sentence, event = _decay_sentence(s, e, "is divided by a growing 1 + r·e")
    given = (("t", s.k), ("D", p["decay_steps"]), ("r", p["decay_rate"]), (r"\eta_0", lr0))
    return Part(value, given, lines, sentence, event)


def _polynomial_explained(s: Step) -> Part:
    p, k, lr0 = s.params, s.k, s.lr0
    big_d, end, power = p["decay_steps"], p["end_learning_rate"], p["power"]
    value = _value(polynomial_decay, s)
    if p["cycle"]:
        mult = 1 if k == 0 else math.ceil(k / big_d)
        first = rf"D' = D \cdot \max(1, \lceil t / D \rceil) = {big_d} \times {mult} = {big_d * mult},\quad s = t = {k}"
        span, sc = big_d * mult, k
    else:
        first = rf"D' = D = {big_d},\quad s = \min(t, D) = {min(k, big_d)}"
        span, sc = big_d, min(k, big_d)
    lines = (
        first,
        rf"{_eta(s)} = (\eta_0 - \eta_e)\left(1 - \tfrac{{s}}{{D'}}\right)^{{p}} + \eta_e = ({num(lr0)} - {num(end)})"
        rf"\left(1 - \tfrac{{{sc}}}{{{span}}}\right)^{{{num(power)}}} + {num(end)} = {num(value)}",
    )
    if k == 0:
        sentence, event = "The first update uses initial_learning_rate.", "start"
    elif p["cycle"] and k > big_d and (k - 1) % big_d == 0:
        sentence, event = (
            f"cycle: a new decay over D' = {span} steps starts below the first peak (1 − {k}/{span} of the way).",
            "restart",
        )
    elif sc == span:
        sentence, event = "The decay has reached end_learning_rate.", "end" if k == big_d else "hold"
    else:
        sentence, event = f"The polynomial decay is {sc} of {span} steps along, toward end_learning_rate.", "decay"
    given = (("t", k), ("D", big_d), (r"\eta_e", end), ("p", power), (r"\eta_0", lr0))
    return Part(value, given, lines, sentence, event)


def _piecewise_explained(s: Step) -> Part:
    p, k = s.params, s.k
    boundaries = p["boundaries"]
    i = int(np.searchsorted(np.asarray(boundaries), k, side="left"))
    value = _value(piecewise_constant_decay, s)
    if i == 0:
        where = rf"t = {k} \le b_0 = {boundaries[0]}"
    elif i == len(boundaries):
        where = rf"t = {k} > b_{{{i - 1}}} = {boundaries[-1]}"
    else:
        where = rf"b_{{{i - 1}}} = {boundaries[i - 1]} < t = {k} \le b_{{{i}}} = {boundaries[i]}"
    lines = (rf"{where}:\quad {_eta(s)} = v_{{{i}}} = {num(value)}",)
    if k == 0:
        sentence, event = "The first update uses values[0].", "start"
    elif i > 0 and k == boundaries[i - 1] + 1:
        sentence, event = f"The step after boundary {boundaries[i - 1]}: the lr switches to values[{i}].", "switch"
    elif i < len(boundaries) and k == boundaries[i]:
        sentence, event = f"At boundary {boundaries[i]} the lr is still values[{i}]: Keras switches after it.", "hold"
    else:
        sentence, event = f"The lr holds at values[{i}].", "hold"
    return Part(value, (("t", k),), lines, sentence, event)


# ---- the specs -----------------------------------------------------------------------------------------


def _keras_spec(name: str, **fields: Any) -> SchedulerSpec:
    fields.setdefault("base_lr_param", "initial_learning_rate")
    cancel = (CANCEL_NOTE,) if name in CANCELLING else ()
    notes = (*fields.pop("notes", ()), FLOAT32_NOTE, *cancel, DRIVE_NOTE)
    return SchedulerSpec(
        name=f"keras:{name}",
        library="keras",
        build=_build_unavailable,
        drive=_driver(name),
        export=_exporter(name),
        tolerance=TOLERANCE,
        rounding=lambda p, ctx: rounding_noise(name, p, ctx.base_lr),
        requires=("keras",),
        install="pip install keras  (lrlab drives it on the torch backend: KERAS_BACKEND=torch)",
        intervals=("step",),
        groups=False,
        reference=DOCS.format(name),
        notes=notes,
        **fields,
    )


ALPHA = ParamSpec(
    "alpha",
    "float",
    0.0,
    "Floor of the cosine as a fraction of the lr it decays from.",
    low=0.0,
    high=1.0,
    symbol=r"\alpha",
)
STAIRCASE = ParamSpec("staircase", "bool", False, "Decay in whole steps of decay_steps (floor of t / decay_steps).")


def _staircase_formula(body: str) -> str:
    return (
        rf"\eta_t = {body}, \qquad e = \begin{{cases}} t / D, & \text{{staircase false}} \\"
        r" \lfloor t / D \rfloor, & \text{staircase true} \end{cases}"
    )


COSINE_DECAY = _keras_spec(
    "CosineDecay",
    title="CosineDecay — cosine decay, with an optional linear warm-up",
    summary="Cosine from initial_learning_rate (or warmup_target after a warm-up) down to alpha times it over "
    "decay_steps, then flat.",
    params=(
        _steps_param("decay_steps", lambda n: n, "Steps of the cosine decay (after the warm-up).", "D"),
        ALPHA,
        ParamSpec(
            "warmup_target",
            "float",
            None,
            "The lr the warm-up rises to (null: no warm-up, warmup_steps is ignored).",
            low=0.0,
            high=MAX_LR,
            optional=True,
            log=True,
            symbol=r"\eta_w",
        ),
        _steps_param("warmup_steps", 0, "Steps of linear warm-up (only with warmup_target).", "W", low=0),
    ),
    closed_form=cosine_decay,
    formula=(
        r"\eta_t = \begin{cases} \eta_0 + (\eta_w - \eta_0)\,\frac{s}{W}, & s < W \\"
        r" \eta_p\left((1-\alpha)\,\tfrac12\left(1 + \cos\frac{\pi (s - W)}{D}\right) + \alpha\right), & s \ge W"
        r" \end{cases} \qquad s = \min(t, D + W),\ \eta_p = \begin{cases} \eta_w & \eta_w \text{ set} \\"
        r" \eta_0 & \text{else } (W = 0) \end{cases}"
    ),
    legend=(
        BASE_LR_LEGEND,
        ("D", "decay_steps"),
        (r"\alpha", "alpha"),
        (r"\eta_w", "warmup_target"),
        ("W", "warmup_steps"),
        ("t", "optimizer.iterations (0 for the first update)"),
    ),
    notes=(
        "Keras ignores warmup_steps when warmup_target is None (its default): no warm-up, the cosine starts at "
        "initial_learning_rate.",
        "decay_steps excludes the warm-up: warm-up W then decay D ends at step W + D (optax's "
        "warmup_cosine_decay_schedule counts the warm-up in its decay_steps).",
        "With warmup_target set and warmup_steps = 0 the decay starts at warmup_target at once: initial_learning_rate "
        "is never used.",
        "lrlab's base lr must be > 0, so a warm-up from 0 (Keras's docs example) is a warm-up from a tiny lr here.",
        "Keras's docs write the warm-up as completed_fraction · (warmup_target − initial_learning_rate), without "
        "+ initial_learning_rate; the code adds it, so the warm-up rises from initial_learning_rate (0.1 → 1.0 over 10 "
        "steps: 0.55 at step 5, not 0.45); lrlab follows the code.",
    ),
    explainer=_cosine_decay_explained,
)

COSINE_DECAY_RESTARTS = _keras_spec(
    "CosineDecayRestarts",
    title="CosineDecayRestarts — SGDR: cosine cycles with warm restarts",
    summary="Cosine cycles from initial_learning_rate down to alpha times it; each cycle t_mul times longer and its "
    "peak m_mul times lower.",
    params=(
        _steps_param("first_decay_steps", lambda n: max(1, n // 7), "Length of the first cycle.", "D_1"),
        ParamSpec(
            "t_mul",
            "float",
            2.0,
            "Each cycle is t_mul times longer than the one before (below 1 Keras returns NaN once the shrinking "
            "cycles add up, so lrlab asks for at least 1).",
            low=1.0,
            high=100.0,
            symbol="T",
        ),
        ParamSpec(
            "m_mul", "float", 1.0, "Each cycle's peak is m_mul times the one before.", low=0.0, high=1.0, symbol="M"
        ),
        ParamSpec(
            "alpha", "float", 0.0, "Floor as a fraction of initial_learning_rate.", low=0.0, high=1.0, symbol=r"\alpha"
        ),
    ),
    closed_form=cosine_decay_restarts,
    formula=(
        r"\begin{aligned} f &= t / D_1,\quad i = \begin{cases} \lfloor f \rfloor, & T = 1 \\"
        r" \left\lfloor \log(1 - f(1-T)) / \log T \right\rfloor, & T \ne 1 \end{cases},\quad"
        r" f_i = \begin{cases} f - i, & T = 1 \\ \dfrac{f - (1 - T^i)/(1 - T)}{T^i}, & T \ne 1 \end{cases} \\"
        r" \eta_t &= \eta_0\left((1 - \alpha)\,\tfrac12 M^i \left(1 + \cos \pi f_i\right) + \alpha\right) \end{aligned}"
    ),
    legend=(
        BASE_LR_LEGEND,
        ("D_1", "first_decay_steps"),
        ("T", "t_mul"),
        ("M", "m_mul"),
        (r"\alpha", "alpha"),
        ("i", "the cycle (0 first)"),
        ("t", "optimizer.iterations (0 for the first update)"),
    ),
    notes=(
        "The floor α·η₀ is not scaled by m_mul: later cycles run from M^i·(1−α)·η₀ + α·η₀ down to α·η₀.",
        'Keras\'s docs say each restart runs "with m_mul times initial learning rate as the new learning rate"; the code '
        "scales only the cosine part by m_mul, so with alpha > 0 restart i starts at (m_mul^i·(1 − α) + α)·η₀ (m_mul 0.5, "
        "α 0.2: 0.6·η₀ at the first restart, not 0.5·η₀); lrlab follows the code.",
        "Keras finds the cycle with a float32 logarithm: where a restart falls exactly on a step, it can count that "
        "step as the end of the previous cycle and so misses the peak (t_mul = 1.5, first_decay_steps = 4: step 10 "
        "gives α·η₀ instead of η₀, step 11 goes on in the new cycle). lrlab's closed form has the peak, so the two "
        "differ at that one step.",
        "After many cycles Keras's float32 loses digits of the position within the cycle (f − i): the closed form "
        "rounds it as Keras does.",
    ),
    explainer=_restarts_explained,
)

EXPONENTIAL_DECAY = _keras_spec(
    "ExponentialDecay",
    title="ExponentialDecay — multiply by decay_rate every decay_steps",
    summary="initial_learning_rate × decay_rate^(t / decay_steps); staircase floors the exponent. A decay_rate above 1 "
    "grows the lr (an lr range test).",
    params=(
        _steps_param("decay_steps", lambda n: max(1, n // 10), "Steps per factor of decay_rate.", "D"),
        ParamSpec(
            "decay_rate",
            "float",
            0.5,
            "Factor per decay_steps (above 1: growth).",
            low=0.0,
            high=1e3,
            log=True,
            symbol="r",
        ),
        STAIRCASE,
    ),
    closed_form=exponential_decay,
    formula=_staircase_formula(r"\eta_0\, r^{e}"),
    legend=(
        BASE_LR_LEGEND,
        ("D", "decay_steps"),
        ("r", "decay_rate"),
        ("e", "the exponent"),
        ("t", "optimizer.iterations"),
    ),
    rules=(_exponential_rule,),
    explainer=_exponential_explained,
)

INVERSE_TIME_DECAY = _keras_spec(
    "InverseTimeDecay",
    title="InverseTimeDecay — 1/t decay",
    summary="initial_learning_rate / (1 + decay_rate × t / decay_steps); staircase floors t / decay_steps.",
    params=(
        _steps_param("decay_steps", lambda n: max(1, n // 10), "Steps per unit of t / decay_steps.", "D"),
        ParamSpec("decay_rate", "float", 1.0, "Rate of the 1/t decay.", low=0.0, high=1e3, log=True, symbol="r"),
        STAIRCASE,
    ),
    closed_form=inverse_time_decay,
    formula=_staircase_formula(r"\frac{\eta_0}{1 + r\,e}"),
    legend=(
        BASE_LR_LEGEND,
        ("D", "decay_steps"),
        ("r", "decay_rate"),
        ("e", "t / D (floored)"),
        ("t", "optimizer.iterations"),
    ),
    explainer=_inverse_time_explained,
)

POLYNOMIAL_DECAY = _keras_spec(
    "PolynomialDecay",
    title="PolynomialDecay — polynomial decay to end_learning_rate, optionally cycling",
    summary="(initial − end)(1 − t / decay_steps)^power + end, flat after decay_steps; with cycle the decay restarts "
    "over the next multiple of decay_steps.",
    params=(
        _steps_param("decay_steps", lambda n: n, "Steps of the decay.", "D"),
        ParamSpec(
            "end_learning_rate",
            "float",
            0.0001,
            "The lr at the end of the decay.",
            low=0.0,
            high=MAX_LR,
            log=True,
            symbol=r"\eta_e",
        ),
        ParamSpec("power", "float", 1.0, "Power of the polynomial (1: linear).", low=0.0, high=10.0, symbol="p"),
        ParamSpec("cycle", "bool", False, "Restart the decay over the next multiple of decay_steps."),
    ),
    closed_form=polynomial_decay,
    formula=(
        r"\eta_t = (\eta_0 - \eta_e)\left(1 - \frac{s}{D'}\right)^{p} + \eta_e, \qquad"
        r" \begin{cases} s = \min(t, D),\ D' = D, & \text{cycle false} \\"
        r" s = t,\ D' = D \max\left(1, \lceil t / D \rceil\right), & \text{cycle true} \end{cases}"
    ),
    legend=(
        BASE_LR_LEGEND,
        ("D", "decay_steps"),
        (r"\eta_e", "end_learning_rate"),
        ("p", "power"),
        ("t", "optimizer.iterations"),
    ),
    notes=(
        "With cycle the lr reaches end_learning_rate at every multiple of decay_steps and the next decay spans "
        "D·⌈t/D⌉ steps from 0: cycle k starts at only about 1/k^power of the first peak, not at initial_learning_rate.",
        "Keras's docs write the cycling decay with decay_steps · ceil(step / decay_steps), which is 0 at step 0 (0 / 0); "
        "the code uses a multiplier of 1 there, so step 0 is initial_learning_rate; lrlab follows the code.",
    ),
    explainer=_polynomial_explained,
)

PIECEWISE_CONSTANT_DECAY = _keras_spec(
    "PiecewiseConstantDecay",
    title="PiecewiseConstantDecay — constant lrs between step boundaries",
    summary="values[0] up to boundaries[0], values[1] up to boundaries[1], …; switches after each boundary. The lrs "
    "are the values: the run's base lr is not used.",
    params=(
        ParamSpec(
            "boundaries",
            "int_list",
            lambda n: [max(0, n // 2 - 1), max(1, 3 * n // 4 - 1)],
            "Steps after which the lr switches to the next value (strictly increasing).",
            low=0,
            high=MAX_STEPS,
            symbol="b",
        ),
        ParamSpec(
            "values",
            "float_list",
            [0.1, 0.01, 0.001],
            "The lrs: one more than boundaries.",
            low=0.0,
            high=MAX_LR,
            symbol="v",
        ),
    ),
    base_lr_param=None,
    closed_form=piecewise_constant_decay,
    formula=(
        r"\eta_t = \begin{cases} v_0, & t \le b_0 \\ v_i, & b_{i-1} < t \le b_i \\ v_n, & t > b_{n-1} \end{cases}"
    ),
    legend=(("b", "boundaries"), ("v", "values"), ("t", "optimizer.iterations")),
    rules=(_piecewise_rule,),
    notes=(
        "Keras switches after the boundary: at t = b_i the lr is still values[i] (optax's piecewise_constant_schedule "
        "switches at it).",
        "The lrs are the values: the run's base lr is not used by this schedule.",
        "Keras does not check that boundaries increase (overlapping ranges add their values up): lrlab asks for "
        "strictly increasing boundaries.",
    ),
    explainer=_piecewise_explained,
)

SPECS: tuple[SchedulerSpec, ...] = (
    COSINE_DECAY,
    COSINE_DECAY_RESTARTS,
    EXPONENTIAL_DECAY,
    INVERSE_TIME_DECAY,
    PIECEWISE_CONSTANT_DECAY,
    POLYNOMIAL_DECAY,
)
