"""What a page says about where its curve came from: the stepped library, or the fast path
(the closed form) with a button that steps the library to check it."""

from __future__ import annotations

import streamlit as st

from lrlab.simulate import Curve, verify


def source_note(curve: Curve, key: str) -> None:
    """For a fast-path curve: say so, and offer "Verify against the library" (with progress; any
    other input cancels it, as Streamlit stops the run)."""
    if curve.source != "closed form":
        return
    done = st.session_state.get(f"{key}.verified", {})
    result = done.get(curve.config.to_json())
    st.info(
        f"{curve.config.steps:,} steps: drawn from the vectorised closed form, which the test suite proves equal "
        "to the stepped library. Stepping the real object takes a few seconds per million steps.",
        icon=":material/bolt:",
    )
    if result is not None:
        max_rel, first = result
        if first is None:
            st.success(
                f"Verified: the real {curve.spec.name} matches on all {curve.config.steps:,} steps "
                f"(max relative difference {max_rel:.1e}"
                + (f", within {curve.spec.library}'s float32 rounding" if curve.spec.tolerance > 1e-9 else "")
                + ").",
                icon=":material/check_circle:",
            )
        else:
            st.warning(
                f"The real {curve.spec.name} differs from step {first:,} on (max relative difference "
                f"{max_rel:.3g}): "
                + (
                    "torch's recursive update drifts by rounding."
                    if curve.spec.library == "torch"
                    else f"beyond the rounding of {curve.spec.library} ({curve.spec.tolerance:.0e})."
                ),
                icon=":material/difference:",
            )
        return
    if st.button("Verify against the library", key=f"{key}.verify", icon=":material/fact_check:"):
        bar = st.progress(0.0, text="Stepping the real scheduler…")
        result = verify(curve, progress=lambda f: bar.progress(f, text=f"Stepping the real scheduler… {f:.0%}"))
        bar.empty()
        st.session_state[f"{key}.verified"] = {**done, curve.config.to_json(): result}
        st.rerun()
