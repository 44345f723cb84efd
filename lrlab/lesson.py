"""The guided lesson: twelve chapters from StepLR to cosine warm-up, in the course's order.

This module owns the lesson's content and logic (no Streamlit): each :class:`Chapter` has its
motivation in two sentences, the settings a reader may move (:class:`Knob`, bounded; a knob is a
parameter of the scheduler, or a number the chapter builds one from, such as a milestone of
MultiStepLR's list or a constant in LambdaLR's lambda), a question
whose answer is computed from the real scheduler, stepped (:func:`answer`), and numbers that a
reference states for the scheduler (:class:`Stated`) set next to what the library gives today
(:func:`reference_rows`). The stated numbers are literals copied from their sources, never computed
here. A chapter and its settings travel in the URL (``?chapter=exponential&gamma=0.9``, see
:func:`settings_from_query`); :func:`playground_query` opens the same curve on the Playground.
``pages/lesson.py`` draws it all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd

from lrlab.simulate import Curve, simulate
from lrlab.specs import LrlabError, ScheduleConfig, format_value, invalid, parse_value

#: Query key that selects the chapter (``/lesson?chapter=<slug>``).
CHAPTER_KEY = "chapter"
#: Optimizer steps per ``scheduler.step(metric)`` call in a metric-driven chapter: one step is one epoch.
EVAL_EVERY = 1


@dataclass(frozen=True)
class Knob:
    """One setting of a chapter: a parameter of the scheduler (the library's name), bounded; typed exactly
    or moved on its helper slider (``step`` is the slider's)."""

    param: str
    label: str
    low: float
    high: float
    step: float
    default: float
    help: str

    @property
    def is_int(self) -> bool:
        """An integer slider: its bounds, step and default are written as ints."""
        return all(isinstance(x, int) for x in (self.low, self.high, self.step, self.default))

    @property
    def decimals(self) -> int:
        text = f"{self.step:.10f}".rstrip("0")
        return 0 if self.is_int else len(text.split(".")[1])

    def allowed(self) -> str:
        noun = "an integer" if self.is_int else "a number"
        return f"must be {noun} in [{_plain(self.low)}, {_plain(self.high)}]"

    def clean(self, value: Any) -> int | float:
        """``value`` as this knob's type, or a named :class:`LrlabError`. A typed value is kept exactly
        (0.375 on a 0.05 slider stays 0.375); only a slider's float noise (0.8500000000000001) goes."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise invalid(self.param, value, self.allowed())
        number = float(value)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise invalid(self.param, value, self.allowed())
        if self.is_int:
            if not number.is_integer():
                raise invalid(self.param, value, self.allowed())
            return int(number)
        return float(f"{number:.12g}")


@dataclass(frozen=True)
class Stated:
    """Numbers a reference states for one configuration: the lr at some steps, and where they come from.

    ``values`` are literals copied from the source (rounded as the source rounds them);
    ``tolerance`` is the absolute difference within which the library's value agrees with a stated
    one (half a unit of the last stated digit, or the source's own test tolerance).
    """

    caption: str  # the configuration in words, e.g. "StepLR(step_size=5, gamma=0.5), lr 20"
    source: str  # where the numbers are stated
    scheduler: str
    params: tuple[tuple[str, Any], ...]
    base_lr: float
    steps: tuple[int, ...]
    values: tuple[float, ...]
    tolerance: float
    metrics: tuple[float, ...] | None = None  # ReduceLROnPlateau: one metric value per evaluation


@dataclass(frozen=True)
class Answer:
    """The answer to a chapter's question: what to show (markdown) and the number(s) asked for."""

    text: str
    value: Any


@dataclass(frozen=True)
class Chapter:
    """One chapter of the lesson."""

    slug: str
    title: str
    scheduler: str  # the registry name of the library scheduler the chapter steps
    motivation: tuple[str, str]  # why this schedule: two sentences
    knobs: tuple[Knob, ...]
    steps: int  # rows of the chart
    base_lr: float
    question: Callable[[Chapter, Mapping[str, Any]], str]
    answer: Callable[[Chapter, Mapping[str, Any]], Answer]
    stated: Stated
    fixed: tuple[tuple[str, Any], ...] = ()  # parameters the chapter sets without a slider
    metrics: tuple[float, ...] | None = None  # the metric of a metric-driven chapter, one per evaluation
    x_axis: str = "step"  # how the chart's x axis is labelled ("epoch" when one step is one epoch)
    hint: str = ""  # one sentence shown under the chart
    # the scheduler's parameters from the knobs' values, where a knob is not itself a parameter
    # (None: every knob is a parameter of the scheduler, passed as it is)
    build: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _fmt(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}g}"


# ---- the real scheduler ---------------------------------------------------------------------------


def config(chapter: Chapter, values: Mapping[str, Any], steps: int | None = None) -> ScheduleConfig:
    """The chapter's schedule with these slider values (checked against the knobs)."""
    clean = clean_settings(chapter, values)
    return ScheduleConfig.make(
        chapter.scheduler, scheduler_params(chapter, clean), steps=steps or chapter.steps, base_lr=chapter.base_lr
    )


def scheduler_params(chapter: Chapter, clean: Mapping[str, Any]) -> dict[str, Any]:
    """The scheduler's parameters for these (already checked) knob values: the chapter's fixed ones,
    then the knobs' (through the chapter's ``build`` where a knob is not itself a parameter)."""
    built = dict(clean) if chapter.build is None else chapter.build(clean)
    return {**dict(chapter.fixed), **built}


def metrics_for(chapter: Chapter, steps: int) -> tuple[float, ...] | None:
    """The metric values a run of ``steps`` rows consumes (one per evaluation), or None."""
    if chapter.metrics is None:
        return None
    return chapter.metrics[: max(1, (steps - 1) // EVAL_EVERY)]


def curve(chapter: Chapter, values: Mapping[str, Any], steps: int | None = None) -> Curve:
    """The real library's curve for the chapter (its metric fed in for a metric-driven scheduler)."""
    cfg = config(chapter, values, steps)
    metrics = metrics_for(chapter, cfg.steps)
    if metrics is None:
        return simulate(cfg)
    return simulate(cfg, metrics=np.asarray(metrics), eval_every=EVAL_EVERY)


def _lrs(chapter: Chapter, values: Mapping[str, Any], steps: int) -> np.ndarray:
    return curve(chapter, values, steps).frame["lr"].to_numpy()


# ---- settings and links ---------------------------------------------------------------------------


def default_settings(chapter: Chapter) -> dict[str, int | float]:
    return {k.param: k.clean(k.default) for k in chapter.knobs}


def clean_settings(chapter: Chapter, values: Mapping[str, Any]) -> dict[str, int | float]:
    """Every knob's value (its default where missing), checked; unknown names are errors."""
    names = {k.param: k for k in chapter.knobs}
    unknown = sorted(set(values) - set(names))
    if unknown:
        allowed = ", ".join(names) or "none"
        raise LrlabError(
            f"Unknown setting {unknown[0]!r} for the chapter {chapter.title!r}: allowed are {allowed}",
            field=unknown[0],
        )
    return {k.param: k.clean(values.get(k.param, k.default)) for k in chapter.knobs}


def chapter_for(slug: Any) -> Chapter:
    """The chapter with this slug, or a :class:`LrlabError` naming the allowed ones."""
    if isinstance(slug, str) and slug in BY_SLUG:
        return BY_SLUG[slug]
    raise invalid(CHAPTER_KEY, slug, "must be one of " + ", ".join(BY_SLUG))


def chapter_label(slug: str) -> str:
    """``3. Cosine annealing`` (a widget's format function)."""
    chapter = BY_SLUG[slug]
    return f"{CHAPTERS.index(chapter) + 1}. {chapter.title}"


def position(chapter: Chapter) -> int:
    """1-based number of the chapter."""
    return CHAPTERS.index(chapter) + 1


def neighbours(chapter: Chapter) -> tuple[Chapter | None, Chapter | None]:
    """The previous and the next chapter (None at either end)."""
    i = CHAPTERS.index(chapter)
    return (CHAPTERS[i - 1] if i > 0 else None, CHAPTERS[i + 1] if i + 1 < len(CHAPTERS) else None)


def settings_from_query(query: Mapping[str, str]) -> tuple[Chapter, dict[str, int | float], list[str]]:
    """The chapter and slider values a link asks for, and what in it was ignored (in words).

    A missing or unknown chapter gives chapter 1; a value out of its slider's range, or a key that
    is not a setting of the chapter, is ignored (the slider keeps its default) and reported.
    """
    ignored: list[str] = []
    chapter = CHAPTERS[0]
    keys = [k for k in query if k != CHAPTER_KEY]
    if CHAPTER_KEY in query:
        try:
            chapter = chapter_for(query[CHAPTER_KEY])
        except LrlabError as exc:
            ignored.append(f"{exc}; showing chapter 1")
            ignored.extend(f"{key} (for the unknown chapter)" for key in keys)
            return chapter, {}, ignored
    knobs = {k.param: k for k in chapter.knobs}
    values: dict[str, int | float] = {}
    for key in keys:
        if key not in knobs:
            allowed = ", ".join(knobs) or "none"
            ignored.append(f"{key} (not a setting of chapter {position(chapter)}; its settings: {allowed})")
            continue
        try:
            values[key] = knobs[key].clean(parse_value(query[key]))
        except LrlabError as exc:
            ignored.append(str(exc))
    return chapter, values, ignored


def lesson_query(chapter: Chapter, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the lesson's URL holds for this chapter and these settings."""
    return {CHAPTER_KEY: chapter.slug, **clean_settings(chapter, values)}


def playground_query(chapter: Chapter, values: Mapping[str, Any]) -> dict[str, Any]:
    """The Playground's query for the same schedule (scheduler, run length, base lr, parameters)."""
    cfg = config(chapter, values)
    return {"scheduler": cfg.scheduler, "steps": cfg.steps, "base_lr": cfg.base_lr, **cfg.params_dict}


def app_link(current_url: str | None, current_page: str, query: Mapping[str, Any], target_page: str = "") -> str:
    """A link to ``target_page`` of this app ("" is the default page, the Playground) with ``query``.

    ``current_url`` is the address of the page being shown (``st.context.url``: no query, ending
    in ``/<current_page>``); without one (no browser) the link is relative to the server's root.
    """
    base = ""
    if current_url:
        parts = urlsplit(current_url)
        path = parts.path.rstrip("/")
        if current_page and path.endswith("/" + current_page):
            path = path[: -len(current_page) - 1]
        base = f"{parts.scheme}://{parts.netloc}{path}" if parts.scheme else path
    target = f"{base}/{target_page}" if target_page else f"{base}/"
    return f"{target}?{urlencode({k: format_value(v) for k, v in query.items()})}"


def code_line(chapter: Chapter, values: Mapping[str, Any]) -> str:
    """The line that builds this scheduler in a training script (``optimizer`` exists)."""
    from lrlab.export import constructor
    from lrlab.simulate import resolve

    spec, params, ctx = resolve(config(chapter, values))
    return constructor(spec, params, ctx)


# ---- the numbers from the reference -----------------------------------------------------------------


def stated_config(stated: Stated) -> ScheduleConfig:
    return ScheduleConfig.make(
        stated.scheduler, dict(stated.params), steps=max(stated.steps) + 1, base_lr=stated.base_lr
    )


def stated_curve(stated: Stated) -> Curve:
    """The real scheduler stepped with the stated configuration, long enough for every stated step."""
    cfg = stated_config(stated)
    if stated.metrics is None:
        return simulate(cfg)
    return simulate(cfg, metrics=np.asarray(stated.metrics[: cfg.steps - 1]), eval_every=EVAL_EVERY)


def reference_rows(stated: Stated, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per stated step: the stated lr, the library's lr (from ``frame``) and whether they agree."""
    live = frame["lr"].to_numpy()[list(stated.steps)]
    agree = np.abs(live - np.asarray(stated.values)) <= stated.tolerance
    return pd.DataFrame(
        {
            "step": list(stated.steps),
            "stated": list(stated.values),
            "library": live.astype(float),
            "agrees": ["✓" if ok else "✗" for ok in agree],
        }
    )


def reference_table(stated: Stated) -> pd.DataFrame:
    """:func:`reference_rows` against the real scheduler, stepped now."""
    return reference_rows(stated, stated_curve(stated).frame)


# ---- questions and answers ---------------------------------------------------------------------------
# Each answer steps the real scheduler (through lrlab.simulate) as long as the question needs and
# reads the answer off its curve; the formula only explains it.


def _q_step(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With step_size = {v['step_size']} and γ = {v['gamma']:g}, at which step is the learning rate cut "
        "for the third time, and what is it then?"
    )


def _a_step(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    s, g = v["step_size"], v["gamma"]
    lr = _lrs(ch, v, 3 * s + 1)
    cuts = np.flatnonzero(lr[1:] < lr[:-1]) + 1
    t = int(cuts[2])
    return Answer(
        f"At step **{t}**, to **{_fmt(lr[t])}**. StepLR cuts at every multiple of step_size "
        f"({', '.join(str(int(c)) for c in cuts[:3])}), and after three cuts the lr is "
        f"{_plain(ch.base_lr)} × {g:g}³ = {_fmt(ch.base_lr * g**3)}.",
        (t, float(lr[t])),
    )


def _q_exponential(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return f"With γ = {v['gamma']:g}, after how many steps is the learning rate below 1 % of its start?"


def _a_exponential(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    g = v["gamma"]
    bound = math.ceil(math.log(0.01) / math.log(g)) + 2  # enough steps to see it happen
    lr = _lrs(ch, v, bound + 1)
    t = int(np.flatnonzero(lr < 0.01 * lr[0])[0])
    return Answer(
        f"After **{t}** steps: the lr at step {t} is {_fmt(lr[t], 4)}, below 1 % of {_plain(lr[0])} "
        f"(at step {t - 1} it is still {_fmt(lr[t - 1], 4)}). From the formula: γᵗ < 0.01 when "
        f"t > ln 0.01 / ln {g:g} = {math.log(0.01) / math.log(g):.2f}.",
        t,
    )


def _q_cosine(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"The chart runs {ch.steps} steps, longer than T_max = {v['T_max']} (eta_min = {v['eta_min']:g}). "
        "At which step is the learning rate back at its starting value?"
    )


def _a_cosine(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    T = v["T_max"]
    lr = _lrs(ch, v, 2 * T + 1)
    back = np.flatnonzero(np.isclose(lr[1:], lr[0], rtol=1e-9, atol=0)) + 1
    t = int(back[0])
    low = int(np.argmin(lr))
    return Answer(
        f"At step **{t}** = 2 × T_max. torch's CosineAnnealingLR does not stop at T_max: it reaches eta_min at "
        f"step {low} and, stepped further, follows the cosine back up — it is periodic with period 2·T_max. "
        "Size T_max to the whole run (or stop stepping at T_max).",
        t,
    )


def _restarts(lr: np.ndarray) -> list[int]:
    return [int(t) for t in np.flatnonzero(lr[1:] > lr[:-1]) + 1]


def _q_restarts(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With T_0 = {v['T_0']} and T_mult = {v['T_mult']}, at which steps does the learning rate jump back "
        f"to its start (a warm restart) within the {ch.steps} steps shown?"
    )


def _a_restarts(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    T0, m = v["T_0"], v["T_mult"]
    restarts = _restarts(_lrs(ch, v, ch.steps))
    lengths = [b - a for a, b in zip([0, *restarts], restarts, strict=False)]
    shown = ", ".join(map(str, restarts[:12])) + (" …" if len(restarts) > 12 else "")
    cycles = ", ".join(map(str, lengths[:6])) + (" …" if len(lengths) > 6 else "")
    rule = f"each cycle {m}× the last" if m > 1 else "all cycles equally long"
    return Answer(
        f"At steps **{shown}** ({len(restarts)} restarts): cycles of {cycles} steps — T_i = T_0 · T_mult^i = "
        f"{T0} · {m}^i, {rule}. The lr never quite reaches eta_min at a whole step: the restart comes first.",
        tuple(restarts),
    )


#: ReduceLROnPlateau's metric: a validation loss that improves for 5 epochs, then stalls at 0.52
#: (hand-written, so the chapter is deterministic; none of the later values is below 0.52).
PLATEAU_LOSS: tuple[float, ...] = (
    *(1.00, 0.80, 0.66, 0.57, 0.52),
    *(0.53, 0.52, 0.54, 0.525, 0.53, 0.52, 0.535, 0.53, 0.52, 0.54, 0.53, 0.525, 0.52, 0.53, 0.54),
    *(0.52, 0.53, 0.525, 0.52, 0.53, 0.54, 0.52, 0.53, 0.525, 0.53),
)
PLATEAU_STALLS_AFTER = 5  # the last evaluation that improved the loss


def _q_plateau(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"The loss stops improving after epoch {PLATEAU_STALLS_AFTER}. With patience = {v['patience']} and "
        f"factor = {v['factor']:g}, after which epoch is the learning rate cut for the first time, and to what?"
    )


def _a_plateau(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    events = curve(ch, v).events
    reduced = events[events["event"] == "reduced"]
    first = reduced.iloc[0]
    epoch, lr = int(first["evaluation"]), float(first["lr_after"])
    best = events[(events["evaluation"] < epoch) & (events["event"] == "improved")]["evaluation"].max()
    bad = epoch - int(best)
    return Answer(
        f"After epoch **{epoch}**, to **{_fmt(lr)}**. The best loss so far came at epoch {int(best)}; epochs "
        f"{int(best) + 1}–{epoch} were not better, and {bad} bad epochs > patience {v['patience']}, so the lr is "
        f"multiplied by factor {v['factor']:g}. The first cut always needs patience + 1 epochs without improvement.",
        (epoch, lr),
    )


def _q_linear(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With W = {v['num_warmup_steps']} warm-up steps (and N = {v['num_training_steps']} training steps), what "
        "learning rate does the very first optimizer step use, and at which step is the peak reached?"
    )


def _a_linear(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    lr = _lrs(ch, v, ch.steps)
    peak = int(np.argmax(lr))
    W = v["num_warmup_steps"]
    first = (
        "**0**: transformers' warm-up multiplies by t / W, which is 0 at t = 0, so the first update is wasted"
        if W > 0
        else f"**{_fmt(lr[0])}**: without warm-up (W = 0) the schedule starts at the full lr"
    )
    return Answer(
        f"The first step uses lr {first}. The peak, {_fmt(lr[peak])}, is reached at step **{peak}** = W; from there "
        f"the lr falls linearly to 0 at step N = {v['num_training_steps']} and stays 0.",
        (float(lr[0]), peak),
    )


def _q_cosine_warmup(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With W = {v['num_warmup_steps']} warm-up steps and N = {v['num_training_steps']} training steps, "
        "at which step has the learning rate fallen to half its peak (or below)?"
    )


def _a_cosine_warmup(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    lr = _lrs(ch, v, ch.steps)
    peak = int(np.argmax(lr))
    t = int(peak + np.flatnonzero(lr[peak:] <= lr[peak] / 2)[0])
    W, N = v["num_warmup_steps"], v["num_training_steps"]
    return Answer(
        f"At step **{t}** (lr {_fmt(lr[t], 4)}, peak {_fmt(lr[peak], 4)} at step {peak}). Half a cosine is at "
        f"half height half-way through the decay: p = (t − W) / (N − W) ≥ ½, i.e. t ≥ {W} + ({N} − {W}) / 2 = "
        f"{W + (N - W) / 2:g}.",
        t,
    )


def _milestones(v: Mapping[str, Any]) -> list[int]:
    return [int(v["milestone_1"]), int(v["milestone_2"])]


def _build_multistep(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"milestones": _milestones(v)}


def _q_multistep(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    m1, m2 = _milestones(v)
    return (
        f"With milestones = [{m1}, {m2}] and γ = {dict(ch.fixed)['gamma']:g}, at which steps is the learning rate "
        f"cut, and what learning rate does the last of the {ch.steps} steps use?"
    )


def _a_multistep(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    m1, m2 = _milestones(v)
    g = dict(ch.fixed)["gamma"]
    lr = _lrs(ch, v, ch.steps)
    cuts = [int(t) for t in np.flatnonzero(lr[1:] < lr[:-1]) + 1]
    last = float(lr[-1])
    where = ", ".join(f"**{t}**" for t in cuts)
    if m1 == m2:
        why = (
            f"Both milestones are step {m1}: torch counts its milestones (a `Counter`), so a milestone listed twice "
            f"cuts twice at once — × γ² = × {g**2:g} there."
        )
    else:
        why = f"One cut of × γ = × {g:g} at each milestone; in between the lr holds."
    return Answer(
        f"At step{'s' if len(cuts) > 1 else ''} {where}; the last step ({ch.steps - 1}) uses **{_fmt(last)}** = "
        f"{_plain(ch.base_lr)} × {g:g}² (two milestones passed). {why}",
        (tuple(cuts), last),
    )


def _build_multiplicative(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"lr_lambda": f"1 if epoch <= {int(v['hold'])} else {v['factor']!r}"}


def _q_multiplicative(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"λ(t) is 1 for t ≤ {v['hold']} and {v['factor']:g} afterwards. At which step is the learning rate at or "
        "below half its start for the first time?"
    )


def _a_multiplicative(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    k, f = v["hold"], v["factor"]
    n = k + math.ceil(math.log(0.5) / math.log(f)) + 2  # enough steps to see it happen
    lr = _lrs(ch, v, n + 1)
    t = int(np.flatnonzero(lr <= 0.5 * lr[0])[0])
    return Answer(
        f"At step **{t}** (lr {_fmt(lr[t], 4)}; at step {t - 1} it is still {_fmt(lr[t - 1], 4)}). "
        f"MultiplicativeLR multiplies the *current* lr by λ(t) at every step from t = 1 on (λ(0) is never applied), "
        f"so the lr is {_plain(ch.base_lr)} until step {k} and {_plain(ch.base_lr)} · {f:g}^(t − {k}) after it: "
        f"half when t − {k} ≥ ln ½ / ln {f:g} = {math.log(0.5) / math.log(f):.2f}.",
        t,
    )


def _build_lambda(v: Mapping[str, Any]) -> dict[str, Any]:
    w = int(v["warmup"])
    return {"lr_lambda": f"(epoch + 1) / {w} if epoch < {w} else sqrt({w} / (epoch + 1))"}


def _q_lambda(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With W = {v['warmup']} warm-up steps, at which step does the learning rate peak, and at which step has "
        "it fallen to half the peak?"
    )


def _a_lambda(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    w = v["warmup"]
    lr = _lrs(ch, v, ch.steps)
    peak = int(np.argmax(lr))
    half = int(peak + np.flatnonzero(lr[peak:] <= lr[peak] / 2)[0])
    return Answer(
        f"The peak, {_fmt(lr[peak])}, is at step **{peak}** = W − 1, where λ = (t + 1) / W reaches 1; half of it, "
        f"{_fmt(lr[half])}, at step **{half}**: √(W / (t + 1)) = ½ when t + 1 = 4W = {4 * w}. LambdaLR sets "
        "lr = initial lr × λ(t) at every step, so any shape you can write as a function of t is a schedule.",
        (peak, half),
    )


def _q_cyclic(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With step_size_up = {v['step_size_up']} (step_size_down is the same by default) and max_lr = "
        f"{v['max_lr']:g}, at which steps does the learning rate reach max_lr within the {ch.steps} steps shown, "
        "and what is the momentum there?"
    )


def _a_cyclic(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    frame = curve(ch, v).frame
    lr, momentum = frame["lr"].to_numpy(), frame["momentum"].to_numpy()
    tops = [int(t) for t in np.flatnonzero(np.isclose(lr, v["max_lr"], rtol=1e-12, atol=0))]
    u = v["step_size_up"]
    shown = ", ".join(map(str, tops))
    return Answer(
        f"At steps **{shown}**: a cycle is step_size_up + step_size_down = {2 * u} steps, and max_lr comes half-way "
        f"through each (triangular policy). The momentum there is **{_fmt(momentum[tops[0]])}**: with "
        "cycle_momentum on, CyclicLR moves the momentum against the lr, down to base_momentum at the top.",
        (tuple(tops), float(momentum[tops[0]])),
    )


def _q_one_cycle(ch: Chapter, v: Mapping[str, Any]) -> str:
    v = clean_settings(ch, v)
    return (
        f"With pct_start = {v['pct_start']:g} and div_factor = {v['div_factor']:g} (max_lr = "
        f"{dict(ch.fixed)['max_lr']:g}, total_steps = {dict(ch.fixed)['total_steps']}), what learning rate does "
        "the first step use, and at which step is the peak reached?"
    )


def _a_one_cycle(ch: Chapter, v: Mapping[str, Any]) -> Answer:
    v = clean_settings(ch, v)
    fixed = dict(ch.fixed)
    lr = _lrs(ch, v, ch.steps)
    peak = int(np.argmax(lr))
    M, N, p, d = fixed["max_lr"], fixed["total_steps"], v["pct_start"], v["div_factor"]
    return Answer(
        f"The first step uses **{_fmt(lr[0])}** = max_lr / div_factor = {M:g} / {d:g} (OneCycleLR ignores the "
        f"optimizer's lr). The peak, {_fmt(lr[peak])}, is at step **{peak}**: the warm-up ends at "
        f"pct_start · total_steps − 1 = {p:g} · {N} − 1 = {p * N - 1:g}. From there a cosine takes the lr down to "
        f"max_lr / div_factor / final_div_factor = {lr[-1]:.3g} at the last step, {N - 1}.",
        (float(lr[0]), peak),
    )


# ---- the chapters -------------------------------------------------------------------------------------

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        slug="step",
        title="Step decay",
        scheduler="StepLR",
        motivation=(
            "A large learning rate makes fast progress early on but keeps the weights bouncing around a "
            "minimum later, so the classic recipe cuts it by a constant factor every few epochs (ResNet: "
            "÷10 at epochs 30, 60 and 90).",
            "StepLR multiplies the learning rate by γ every step_size calls of `scheduler.step()` and holds "
            "it constant in between.",
        ),
        knobs=(
            Knob("step_size", "step_size (steps between cuts)", 5, 50, 1, 20, "How many steps each level lasts."),
            Knob("gamma", "γ (gamma, the factor of each cut)", 0.1, 0.9, 0.05, 0.5, "The lr is multiplied by γ."),
        ),
        steps=100,
        base_lr=0.1,
        question=_q_step,
        answer=_a_step,
        stated=Stated(
            caption="StepLR(optimizer, step_size=5, gamma=0.5) with lr 20",
            source="the reference article's StepLR example (halves every 5 steps)",
            scheduler="StepLR",
            params=(("gamma", 0.5), ("step_size", 5)),
            base_lr=20.0,
            steps=tuple(range(20)),
            values=(20.0,) * 5 + (10.0,) * 5 + (5.0,) * 5 + (2.5,) * 5,
            tolerance=1e-9,
        ),
        hint="Each level lasts step_size steps; the dashed closed form lies exactly on the library's curve.",
    ),
    Chapter(
        slug="multistep",
        title="Multi-step decay",
        scheduler="MultiStepLR",
        motivation=(
            "Step decay at a fixed rhythm rarely matches a real run, so papers name the epochs instead: ResNet "
            "divides the learning rate by 10 at epochs 30 and 60, when the loss has stopped falling.",
            "MultiStepLR multiplies the learning rate by γ at each milestone you list and holds it constant in "
            "between — and it counts the milestones, so one listed twice cuts twice.",
        ),
        knobs=(
            Knob("milestone_1", "first milestone (step)", 5, 50, 1, 30, "The step of the first cut."),
            Knob("milestone_2", "second milestone (step)", 50, 95, 1, 60, "The step of the second cut."),
        ),
        steps=100,
        base_lr=0.1,
        question=_q_multistep,
        answer=_a_multistep,
        stated=Stated(
            caption="MultiStepLR(optimizer, milestones=[5, 15], gamma=0.4) with lr 20",
            source="the reference article's MultiStepLR example (× 0.4 at steps 5 and 15)",
            scheduler="MultiStepLR",
            params=(("gamma", 0.4), ("milestones", (5, 15))),
            base_lr=20.0,
            steps=tuple(range(20)),
            values=(20.0,) * 5 + (8.0,) * 10 + (3.2,) * 5,
            tolerance=1e-9,
        ),
        fixed=(("gamma", 0.1),),
        hint="Set both milestones to 50: the lr drops by γ² at once, because torch counts repeated milestones.",
        build=_build_multistep,
    ),
    Chapter(
        slug="exponential",
        title="Exponential decay",
        scheduler="ExponentialLR",
        motivation=(
            "Instead of sudden drops, the learning rate shrinks by the same factor γ at every step, so it "
            "falls quickly at first and ever more slowly afterwards.",
            "One number sets the whole schedule, which makes it easy to tune — and easy to decay far too fast, "
            "because γᵗ vanishes sooner than intuition says.",
        ),
        knobs=(Knob("gamma", "γ (gamma, the factor per step)", 0.8, 0.99, 0.01, 0.9, "The lr is multiplied by γ."),),
        steps=100,
        base_lr=0.1,
        question=_q_exponential,
        answer=_a_exponential,
        stated=Stated(
            caption="ExponentialLR(optimizer, gamma=0.4) with lr 20",
            source="the reference article's ExponentialLR example",
            scheduler="ExponentialLR",
            params=(("gamma", 0.4),),
            base_lr=20.0,
            steps=(0, 1, 2, 3),
            values=(20.0, 8.0, 3.2, 1.28),
            tolerance=1e-9,
        ),
        hint="Switch the chart's y axis to log scale in the Playground: an exponential decay is a straight line there.",
    ),
    Chapter(
        slug="multiplicative",
        title="Multiplicative decay",
        scheduler="MultiplicativeLR",
        motivation=(
            "MultiplicativeLR is the recursive form of a schedule: at every step it multiplies the current "
            "learning rate by a factor λ(t) that you write, so the decay can change its pace as training goes on.",
            "A constant λ gives exponential decay; here the lr is held for the first steps and then multiplied "
            "by a constant factor at every step — and λ(0) is never applied.",
        ),
        knobs=(
            Knob("hold", "steps held at the start (λ = 1)", 0, 50, 1, 20, "λ(t) = 1 for t ≤ this step."),
            Knob("factor", "factor λ afterwards", 0.8, 0.99, 0.01, 0.95, "The lr is multiplied by it at each step."),
        ),
        steps=150,
        base_lr=0.1,
        question=_q_multiplicative,
        answer=_a_multiplicative,
        stated=Stated(
            caption="MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.8) with lr 100",
            source="the reference article's MultiplicativeLR example (× 0.8 at every step)",
            scheduler="MultiplicativeLR",
            params=(("lr_lambda", "0.8"),),
            base_lr=100.0,
            steps=(0, 1, 2, 3),
            values=(100.0, 80.0, 64.0, 51.2),
            tolerance=1e-9,
        ),
        hint="The lambda is an expression in epoch (the scheduler's step index), shown in the code line below.",
        build=_build_multiplicative,
    ),
    Chapter(
        slug="lambda",
        title="Any schedule: LambdaLR",
        scheduler="LambdaLR",
        motivation=(
            "LambdaLR sets the learning rate to the initial one times λ(t), a function of the step that you write, "
            "so any shape is a schedule — transformers builds its warm-up schedules exactly this way.",
            "This chapter's λ is the Transformer's (Vaswani et al., 2017): a linear warm-up over W steps, then a "
            "decay with the inverse square root of the step.",
        ),
        knobs=(
            Knob("warmup", "W (warm-up steps)", 2, 50, 1, 10, "λ(t) = (t + 1) / W for t < W, then √(W / (t + 1))."),
        ),
        steps=200,
        base_lr=0.1,
        question=_q_lambda,
        answer=_a_lambda,
        stated=Stated(
            caption="LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch) with lr 100",
            source="the reference article's LambdaLR example",
            scheduler="LambdaLR",
            params=(("lr_lambda", "0.95 ** epoch"),),
            base_lr=100.0,
            steps=(0, 1, 2),
            values=(100.0, 95.0, 90.25),
            tolerance=1e-9,
        ),
        hint="λ(t) multiplies the initial lr (not the current one, as in MultiplicativeLR); see it in the code below.",
        build=_build_lambda,
    ),
    Chapter(
        slug="cosine-annealing",
        title="Cosine annealing",
        scheduler="CosineAnnealingLR",
        motivation=(
            "Half a cosine takes the learning rate from its start to eta_min: it stays high for a long stretch, "
            "falls fastest in the middle and eases gently into the minimum, with no step size or factor to choose.",
            "It needs only the length of the decay, T_max — and torch does not stop there: stepped past T_max, "
            "the learning rate climbs back up.",
        ),
        knobs=(
            Knob("T_max", "T_max (steps to reach eta_min)", 10, 150, 1, 100, "Half a period of the cosine."),
            Knob("eta_min", "eta_min (the lowest lr)", 0.0, 0.05, 0.005, 0.0, "Where the cosine ends at T_max."),
        ),
        steps=300,
        base_lr=0.1,
        question=_q_cosine,
        answer=_a_cosine,
        stated=Stated(
            caption="CosineAnnealingLR(optimizer, T_max=4) with lr 0.1",
            source="torch 2.13's own output as recorded in lrlab's reference notes on the schedulers, to 4 decimals",
            scheduler="CosineAnnealingLR",
            params=(("T_max", 4), ("eta_min", 0.0)),
            base_lr=0.1,
            steps=tuple(range(9)),
            values=(0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146, 0.05, 0.0854, 0.1),
            tolerance=1e-4,
        ),
        hint="The run is longer than T_max on purpose: watch the curve come back up after T_max.",
    ),
    Chapter(
        slug="warm-restarts",
        title="Cosine with warm restarts",
        scheduler="CosineAnnealingWarmRestarts",
        motivation=(
            "SGDR (Loshchilov & Hutter, 2017) repeats the cosine: when a cycle ends the learning rate jumps back "
            "to its start, a warm restart that can shake the weights out of a sharp minimum and leaves a good "
            "snapshot at the end of every cycle.",
            "With T_mult > 1 each cycle is T_mult times longer than the one before, so restarts become rarer "
            "as training goes on.",
        ),
        knobs=(
            Knob("T_0", "T_0 (length of the first cycle)", 2, 50, 1, 20, "Steps until the first restart."),
            Knob("T_mult", "T_mult (growth of each cycle)", 1, 3, 1, 2, "Cycle i lasts T_0 · T_mult^i steps."),
        ),
        steps=200,
        base_lr=0.1,
        question=_q_restarts,
        answer=_a_restarts,
        stated=Stated(
            caption="CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2) with lr 1",
            source="worked by hand from the SGDR formula: cycles of 3, 6, 12, 24 steps restart at steps 3, 9, 21, 45",
            scheduler="CosineAnnealingWarmRestarts",
            params=(("T_0", 3), ("T_mult", 2), ("eta_min", 0.0)),
            base_lr=1.0,
            steps=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 21, 45),
            values=(1.0, 0.75, 0.25, 1.0, 0.9330, 0.75, 0.5, 0.25, 0.0670, 1.0, 1.0, 1.0),
            tolerance=1e-4,
        ),
        hint="Every jump back up is a restart; with T_mult = 1 all cycles are equally long.",
    ),
    Chapter(
        slug="cyclic",
        title="Cyclical learning rates",
        scheduler="CyclicLR",
        motivation=(
            "Smith (2017) let the learning rate bounce between a lower bound base_lr and an upper bound max_lr "
            "instead of only decaying it: the high phases help the weights leave saddle points and sharp minima.",
            "CyclicLR's triangular policy climbs linearly for step_size_up steps and falls for step_size_down, and "
            "with cycle_momentum on it moves the momentum the opposite way.",
        ),
        knobs=(
            Knob("max_lr", "max_lr (the upper bound)", 0.2, 1.0, 0.05, 0.5, "The top of every cycle."),
            Knob("step_size_up", "step_size_up (steps up)", 5, 50, 1, 20, "Steps from base_lr to max_lr."),
        ),
        steps=200,
        base_lr=0.1,
        question=_q_cyclic,
        answer=_a_cyclic,
        stated=Stated(
            caption="CyclicLR(optimizer, base_lr=1, max_lr=3, step_size_up=2, mode='triangular2')",
            source="worked by hand from Smith's triangular2 policy: up and down in 2 steps each, the amplitude "
            "halved after every cycle",
            scheduler="CyclicLR",
            params=(("max_lr", 3.0), ("mode", "triangular2"), ("step_size_up", 2)),
            base_lr=1.0,
            steps=tuple(range(11)),
            values=(1.0, 2.0, 3.0, 2.0, 1.0, 1.5, 2.0, 1.5, 1.0, 1.25, 1.5),
            tolerance=1e-9,
        ),
        hint="Green (below): the momentum, which CyclicLR lowers while the lr rises (cycle_momentum=True).",
    ),
    Chapter(
        slug="one-cycle",
        title="The 1cycle policy",
        scheduler="OneCycleLR",
        motivation=(
            "Smith's 1cycle policy runs a single cycle over the whole training: the learning rate warms up from "
            "max_lr / div_factor to max_lr, then anneals far below where it started, which often trains in fewer "
            "epochs (fastai's fit_one_cycle).",
            "OneCycleLR ignores the optimizer's lr, needs the run's length up front (total_steps), and refuses to "
            "step past it.",
        ),
        knobs=(
            Knob("pct_start", "pct_start (warm-up share)", 0.1, 0.5, 0.05, 0.3, "Share of the run that warms up."),
            Knob("div_factor", "div_factor (max_lr / first lr)", 5, 100, 5, 25, "The first lr is max_lr / div_factor."),
        ),
        steps=100,
        base_lr=0.1,
        question=_q_one_cycle,
        answer=_a_one_cycle,
        stated=Stated(
            caption="OneCycleLR(optimizer, max_lr=1, total_steps=10)",
            source="worked by hand from torch's documented OneCycleLR: from 1 / 25 up to 1 at step 0.3 · 10 − 1 = 2 "
            "(half-way, step 1, at the cosine's middle, 0.52), down to 0.04 / 10⁴ at step 9",
            scheduler="OneCycleLR",
            params=(("max_lr", 1.0), ("total_steps", 10)),
            base_lr=0.1,
            steps=(0, 1, 2, 9),
            values=(0.04, 0.52, 1.0, 4e-6),
            tolerance=1e-9,
        ),
        fixed=(("max_lr", 0.1), ("total_steps", 100)),
        hint="Green (below): the momentum, cycled from 0.95 down to 0.85 at the peak and back (cycle_momentum=True).",
    ),
    Chapter(
        slug="plateau",
        title="Reduce on plateau",
        scheduler="ReduceLROnPlateau",
        motivation=(
            "Rather than follow a timetable, ReduceLROnPlateau watches a metric — here a validation loss, "
            "evaluated once per epoch — and multiplies the learning rate by factor only when the metric has "
            "not improved for more than patience evaluations.",
            "The schedule therefore depends on your run: the same settings give another curve for another loss, "
            "which is why it is stepped with `scheduler.step(val_loss)`.",
        ),
        knobs=(
            Knob("patience", "patience (epochs without improvement tolerated)", 0, 10, 1, 3, "Bad epochs allowed."),
            Knob("factor", "factor (multiplies the lr at a cut)", 0.1, 0.9, 0.1, 0.5, "The lr is multiplied by it."),
        ),
        steps=len(PLATEAU_LOSS) + 1,
        base_lr=0.1,
        question=_q_plateau,
        answer=_a_plateau,
        stated=Stated(
            caption="ReduceLROnPlateau(optimizer, factor=0.5, patience=2) with lr 0.1, on this chapter's loss",
            source="worked by hand from torch's documented decision rule: a cut after more than "
            "patience evaluations without improvement, then the count starts over",
            scheduler="ReduceLROnPlateau",
            params=(("factor", 0.5), ("patience", 2)),
            base_lr=0.1,
            steps=tuple(range(15)),
            values=(0.1,) * 8 + (0.05,) * 3 + (0.025,) * 3 + (0.0125,),
            tolerance=1e-9,
            metrics=PLATEAU_LOSS,
        ),
        metrics=PLATEAU_LOSS,
        x_axis="epoch",
        hint="Grey: the validation loss (right axis). Red triangles: the epochs where the scheduler cut the lr.",
    ),
    Chapter(
        slug="linear-warmup",
        title="Linear warm-up",
        scheduler="get_linear_schedule_with_warmup",
        motivation=(
            "At the start of training the weights are random and Adam's moment estimates are still unreliable, "
            "so a full-size learning rate can blow the model up; ramping it linearly from 0 over the first W "
            "steps avoids that and is standard for Transformers.",
            "In transformers, `get_linear_schedule_with_warmup` then decays linearly to 0 at num_training_steps — "
            "and its very first step uses a learning rate of exactly 0.",
        ),
        knobs=(
            Knob("num_warmup_steps", "num_warmup_steps (W)", 0, 50, 1, 10, "Steps of the linear ramp from 0."),
            Knob("num_training_steps", "num_training_steps (N)", 60, 150, 1, 100, "Where the lr reaches 0."),
        ),
        steps=150,
        base_lr=0.1,
        question=_q_linear,
        answer=_a_linear,
        stated=Stated(
            caption="get_linear_schedule_with_warmup(optimizer, num_warmup_steps=2, num_training_steps=10) with lr 10",
            source="transformers' own test table (tests/optimization/test_optimization.py), checked there to 1e-2",
            scheduler="get_linear_schedule_with_warmup",
            params=(("num_training_steps", 10), ("num_warmup_steps", 2)),
            base_lr=10.0,
            steps=tuple(range(10)),
            values=(0.0, 5.0, 10.0, 8.75, 7.5, 6.25, 5.0, 3.75, 2.5, 1.25),
            tolerance=1e-2,
        ),
        hint="The run is 150 steps: after num_training_steps the lr stays at 0.",
    ),
    Chapter(
        slug="cosine-warmup",
        title="Cosine with warm-up",
        scheduler="get_cosine_schedule_with_warmup",
        motivation=(
            "The recipe of most language-model training today: a linear warm-up to the peak, then half a cosine "
            "down to 0 at num_training_steps.",
            "It joins the safe start of warm-up to the long high stretch and gentle landing of cosine annealing — "
            "and, like torch's cosine, transformers' keeps following the cosine (back up) past num_training_steps.",
        ),
        knobs=(
            Knob("num_warmup_steps", "num_warmup_steps (W)", 0, 50, 1, 10, "Steps of the linear ramp from 0."),
            Knob("num_training_steps", "num_training_steps (N)", 60, 150, 1, 100, "Where the cosine reaches 0."),
        ),
        steps=150,
        base_lr=0.1,
        question=_q_cosine_warmup,
        answer=_a_cosine_warmup,
        stated=Stated(
            caption="get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=2, num_training_steps=10) with lr 10",
            source="transformers' own test table (tests/optimization/test_optimization.py), checked there to 1e-2",
            scheduler="get_cosine_schedule_with_warmup",
            params=(("num_training_steps", 10), ("num_warmup_steps", 2)),
            base_lr=10.0,
            steps=tuple(range(10)),
            values=(0.0, 5.0, 10.0, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38),
            tolerance=1e-2,
        ),
        hint="The run is 150 steps, longer than N: after N the cosine rises again (transformers does not clamp it).",
    ),
)

BY_SLUG: dict[str, Chapter] = {c.slug: c for c in CHAPTERS}
SLUGS: tuple[str, ...] = tuple(BY_SLUG)


def answer(chapter: Chapter, values: Mapping[str, Any]) -> Answer:
    """The answer to the chapter's question for these settings, read off the real scheduler."""
    return chapter.answer(chapter, values)


def question(chapter: Chapter, values: Mapping[str, Any]) -> str:
    return chapter.question(chapter, values)


__all__ = [
    "CHAPTERS",
    "CHAPTER_KEY",
    "EVAL_EVERY",
    "PLATEAU_LOSS",
    "SLUGS",
    "Answer",
    "Chapter",
    "Knob",
    "Stated",
    "answer",
    "app_link",
    "chapter_for",
    "chapter_label",
    "clean_settings",
    "code_line",
    "config",
    "curve",
    "default_settings",
    "lesson_query",
    "neighbours",
    "playground_query",
    "position",
    "question",
    "reference_rows",
    "reference_table",
    "settings_from_query",
]
