"""Streamlit helpers: the only package code that imports streamlit."""
