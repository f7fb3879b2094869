"""Placeholder: filled in next."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("queues")
