"""Lesson (under construction)."""

import streamlit as st

from lrlab.ui.nav import ensure_router

ensure_router()

st.title("Lesson")
st.info("This page is being built.")
