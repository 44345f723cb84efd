"""Driving optax schedules with jax: the eager curve, the jitted curve, and what differs between them.

The only lrlab module that imports jax and optax (inside its functions: ``import lrlab`` stays torch-only).

An optax schedule is a pure function of the update count. lrlab evaluates it two ways:

- **eager** (:func:`eager`): row t is ``schedule(t)`` called directly on the int32 count t, one call per
  step, as an un-jitted update step calls it (``inject_hyperparams`` passes its int32 ``count``). A plain
  vectorised call ``schedule(jnp.arange(n))`` is *not* that: when one operand of a division is an array
  and the other a Python number, XLA computes ``x / n`` as ``x * (1 / n)``, one float32 rounding away
  from the scalar call (and one step late for some staircase decays). So lrlab replays the schedule's own
  jax program (its jaxpr, traced at a scalar int32 count) one primitive at a time on arrays of counts,
  every operand materialised at full size, so that each primitive runs as it does in a scalar eager call:
  tests/test_lib_optax.py proves the replay equal, bit for bit, to per-step eager calls.
- **jitted** (:func:`jitted`): ``jax.jit(schedule)(t)`` on the int32 count t, what a jitted train step
  computes, evaluated in one compiled loop per chunk of counts and proven equal to per-step jitted calls in
  the same tests (``jax.jit(jax.vmap(schedule))`` is not always: see :func:`jitted`).

Both work on chunks of counts: the eager replay's are of a fixed size, so that its compiled primitives serve
every later run; the jitted loop is compiled once per schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np

#: Primitives that act element by element (all operands of one shape): bound directly on full arrays.
ELEMENTWISE = frozenset(
    """abs acos add and asin atan atan2 cbrt ceil clamp convert_element_type cos cosh div eq erf exp exp2
    expm1 floor ge gt integer_pow is_finite le log log1p logistic lt max min mul ne neg nextafter not or pow
    rem round rsqrt select_n sign sin sinh sqrt square sub tan tanh xor""".split()
)
#: Counts per chunk: large enough that 1M steps take a few dozen chunks, small enough for wide schedules.
CHUNK = 1 << 16
#: At most this many float32 values per intermediate array of a chunk (piecewise schedules hold one per boundary).
CHUNK_VALUES = 1 << 21


def build(name: str, kwargs: Mapping[str, Any]) -> Callable[[Any], Any]:
    """``optax.schedules.<name>(**kwargs)``; for ``join_schedules`` the children are ``(name, kwargs)`` pairs."""
    from optax import schedules

    if name == "join_schedules":
        children = [build(child, child_kwargs) for child, child_kwargs in kwargs["schedules"]]
        return schedules.join_schedules(children, list(kwargs["boundaries"]))
    return getattr(schedules, name)(**kwargs)


# ---- eager: replay the schedule's jaxpr one primitive at a time -----------------------------------


def _chunk_size(jaxpr: Any) -> int:
    """Counts per chunk: :data:`CHUNK`, fewer where one count needs many values (a piecewise schedule's
    boundaries), a power of two so that runs with similar schedules reuse the compiled primitives."""
    width = 1
    for eqn in _all_eqns(jaxpr):
        for var in eqn.outvars:
            width = max(width, int(np.prod(getattr(var.aval, "shape", ()), dtype=np.int64)))
    size = CHUNK
    while size > 1024 and size * width > CHUNK_VALUES:
        size //= 2
    return size


def _all_eqns(jaxpr: Any) -> list[Any]:
    eqns = []
    for eqn in jaxpr.eqns:
        eqns.append(eqn)
        inner = eqn.params.get("call_jaxpr")
        if inner is not None:
            eqns.extend(_all_eqns(getattr(inner, "jaxpr", inner)))
    return eqns


class _Replay:
    """Evaluates a jaxpr for chunks of counts, each primitive bound as a scalar eager call binds it.

    Values that do not depend on the count are computed once, at their own (scalar) shapes, exactly as
    the per-step call computes them. Where a primitive takes a count-dependent operand, every operand is
    materialised at full chunk size first (a scalar operand would let XLA fold a broadcast into the
    operation and turn ``x / n`` into ``x * (1 / n)``); element-wise primitives are then bound directly,
    the others through ``jax.vmap``."""

    def __init__(self, size: int):
        import jax
        import jax.numpy as jnp
        from jax.extend.core import Literal

        self.jax, self.jnp, self.literal, self.size = jax, jnp, Literal, size
        self.fixed: dict[int, Any] = {}  # id of a count-independent var (or literal) -> its value
        self.wide: dict[int, Any] = {}  # the same, materialised at chunk size
        self.keep: list[Any] = []  # the vars and literals keyed by id, kept alive

    def _fixed(self, var: Any, value: Any) -> None:
        self.fixed[id(var)] = value
        self.keep.append(var)

    def run(self, jaxpr: Any, consts: Sequence[Any], args: Sequence[tuple[Any, bool]]) -> list[tuple[Any, bool]]:
        """The outputs of ``jaxpr`` as ``(value, depends on the count)`` pairs."""
        counted: dict[int, Any] = {}  # id of a count-dependent var -> its value for this chunk

        def read(var: Any) -> tuple[Any, bool]:
            key = id(var)
            if key in counted:
                return counted[key], True
            if key not in self.fixed:  # a literal, first seen
                self._fixed(var, self.jnp.asarray(np.asarray(var.val, dtype=var.aval.dtype)))
            return self.fixed[key], False

        for var, const in zip(jaxpr.constvars, consts, strict=True):
            if id(var) not in self.fixed:
                self._fixed(var, self.jnp.asarray(const))
        for var, (value, batched) in zip(jaxpr.invars, args, strict=True):
            if batched:
                counted[id(var)] = value
            elif id(var) not in self.fixed:
                self._fixed(var, value)
        for eqn in jaxpr.eqns:
            if all(id(v) in self.fixed for v in eqn.outvars):
                continue  # count-independent, computed in an earlier chunk
            read_in = [read(v) for v in eqn.invars]
            outs = self._apply(eqn, read_in)
            for var, (value, batched) in zip(eqn.outvars, outs, strict=True):
                if batched:
                    counted[id(var)] = value
                else:
                    self._fixed(var, value)
        return [read(v) for v in jaxpr.outvars]

    def _widen(self, var: Any, value: Any) -> Any:
        key = id(var)
        if key not in self.wide:
            host = np.asarray(value)
            self.wide[key] = self.jnp.asarray(np.ascontiguousarray(np.broadcast_to(host, (self.size, *host.shape))))
        return self.wide[key]

    def _apply(self, eqn: Any, read_in: list[tuple[Any, bool]]) -> list[tuple[Any, bool]]:
        prim, params = eqn.primitive, eqn.params
        inner = params.get("call_jaxpr")
        if inner is not None:  # a custom_jvp / custom_vjp call: eager runs its function op by op
            jaxpr = getattr(inner, "jaxpr", inner)
            return self.run(jaxpr, getattr(inner, "consts", ()), read_in)
        values = [v for v, _ in read_in]
        if not any(b for _, b in read_in):  # independent of the count: as the scalar call computes it
            out = prim.bind(*values, **params)
            return [(o, False) for o in (out if prim.multiple_results else [out])]
        wide = [v if b else self._widen(var, v) for var, (v, b) in zip(eqn.invars, read_in, strict=True)]
        same_shape = all(v.aval.shape == eqn.outvars[0].aval.shape for v in eqn.invars)
        if prim.name in ELEMENTWISE and same_shape:
            out = prim.bind(*wide, **params)
        else:
            out = self.jax.vmap(partial(_bind, prim, params))(*wide)
        return [(o, True) for o in (out if prim.multiple_results else [out])]


def _bind(prim: Any, params: Mapping[str, Any], *args: Any) -> Any:
    return prim.bind(*args, **params)


def eager(schedule: Callable[[Any], Any], steps: int) -> np.ndarray:
    """``schedule(t)`` for t = 0 … steps − 1, float32, equal to per-step eager calls on an int32 count."""
    import jax
    import jax.numpy as jnp

    closed = jax.make_jaxpr(schedule)(jnp.int32(0))
    size = _chunk_size(closed.jaxpr)
    replay = _Replay(size)
    out = np.empty(steps, dtype=np.float32)
    for start in range(0, steps, size):
        counts = jnp.arange(start, start + size, dtype=jnp.int32)
        ((value, batched),) = replay.run(closed.jaxpr, closed.consts, [(counts, True)])
        stop = min(start + size, steps)
        chunk = np.asarray(value, dtype=np.float32)
        out[start:stop] = chunk[: stop - start] if batched else chunk
    return out


def jitted(schedule: Callable[[Any], Any], steps: int) -> np.ndarray:
    """``jax.jit(schedule)(t)`` for t = 0 … steps − 1 on int32 counts, float32: what a jitted train step applies.

    Compiled as one ``lax.fori_loop`` per chunk whose body calls the schedule on the scalar count, so XLA
    optimises the schedule as it does for a scalar count. ``jax.jit(jax.vmap(schedule))`` is one float32
    rounding away for some schedules (piecewise_interpolate_schedule: XLA folds the interpolation's
    constants in another order when they are broadcast over a batch of counts)."""
    import jax
    import jax.numpy as jnp

    size = max(1, min(CHUNK, steps))

    def chunk(start: Any) -> Any:
        def body(i: Any, out: Any) -> Any:
            return out.at[i].set(jnp.asarray(schedule(start + i), dtype=jnp.float32))

        return jax.lax.fori_loop(0, size, body, jnp.zeros(size, dtype=jnp.float32))

    compiled = jax.jit(chunk)
    out = np.empty(steps, dtype=np.float32)
    for start in range(0, steps, size):
        stop = min(start + size, steps)
        out[start:stop] = np.asarray(compiled(jnp.int32(start)), dtype=np.float32)[: stop - start]
    return out


# ---- what differs between the two ------------------------------------------------------------------

#: A jitted value further than this (relative) from the eager one is more than float32 rounding.
MATERIAL = 1e-4


def _steps_text(steps: np.ndarray, first: int = 5) -> str:
    shown = ", ".join(str(int(s)) for s in steps[:first])
    return shown + (", …" if steps.size > first else "")


def jit_notes(eager_lrs: np.ndarray, jit_lrs: np.ndarray) -> tuple[str, ...]:
    """What to say about the jitted column: every step where it differs from the eager one (the first few
    and how many), then what kind of difference it is (NaN, a material difference, float32 rounding)."""
    eager_lrs = np.asarray(eager_lrs, dtype=np.float32)
    jit_lrs = np.asarray(jit_lrs, dtype=np.float32)
    steps = eager_lrs.size
    same = (eager_lrs == jit_lrs) | (np.isnan(eager_lrs) & np.isnan(jit_lrs))
    differ = np.flatnonzero(~same)
    head = "lr_jit is jax.jit(schedule)(count): what a jitted train step applies"
    if differ.size == 0:
        return (f"{head}; it equals the eager call at every step.",)
    notes = [f"{head}; it differs from the eager call (lr) at {differ.size} of {steps} steps: {_steps_text(differ)}."]
    nan = np.flatnonzero(np.isnan(jit_lrs) & ~np.isnan(eager_lrs))
    if nan.size:
        run = f"from step {int(nan[0])} on" if nan.size == steps - nan[0] else f"at {nan.size} steps"
        notes.append(
            f"Jitted, the schedule returns NaN {run} ({_steps_text(nan)}): a train step would turn the "
            "parameters into NaN there."
        )
    finite = ~same & np.isfinite(jit_lrs) & np.isfinite(eager_lrs)
    e64, j64 = eager_lrs.astype(np.float64), jit_lrs.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(finite, np.abs(j64 - e64) / np.maximum(np.abs(e64), np.finfo(np.float32).tiny), 0.0)
    scale = float(np.nanmax(np.abs(e64))) if np.isfinite(e64).any() else 0.0
    material = np.flatnonzero(finite & (rel > MATERIAL) & (np.abs(j64 - e64) > MATERIAL * 1e-3 * scale))
    if material.size:
        notes.append(
            f"At {material.size} step(s) the jitted lr is not the eager one beyond rounding: "
            + "; ".join(f"step {int(t)}: {jit_lrs[t]:.6g} jitted, {eager_lrs[t]:.6g} eager" for t in material[:5])
            + ("; …" if material.size > 5 else "")
            + "."
        )
    negative = np.flatnonzero((jit_lrs < 0) & (eager_lrs >= 0))
    if negative.size:
        notes.append(
            f"Jitted, the lr is negative at {negative.size} step(s) from step {int(negative[0])} "
            f"({jit_lrs[negative[0]]:.3g}) where the eager call gives {eager_lrs[negative[0]]:.3g}."
        )
    rounding = finite & ~np.isin(np.arange(steps), material)
    if rounding.any():
        largest = float(np.max(np.abs(j64 - e64)[rounding])) / scale if scale else 0.0
        notes.append(
            f"At {int(rounding.sum())} step(s) the two differ by float32 rounding only (at most {largest:.2g} of the "
            "largest lr): XLA compiles the schedule's arithmetic in another order (x / n becomes x · (1/n), "
            "a · b + c one fused multiply-add)."
        )
    return tuple(notes)
