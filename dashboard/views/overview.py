"""Overview: one health tile per area, each with its trend and a link to the page that explains it."""

from __future__ import annotations

from typing import Any

import psycopg
import streamlit as st

from dashboard import app
from dashboard.queries.overview import Tile, overview_tiles

COLUMNS = 3


def _tile(tile: Tile) -> None:
    with st.container(border=True):
        shown: Any = "n/a" if tile.value is None else f"{tile.value:g}"
        if tile.key == "trace" and tile.value is not None:
            shown = f"{tile.value:g} %"
        if tile.shown is not None:
            shown = tile.shown
        st.metric(
            tile.label,
            shown,
            chart_data=[p.value for p in tile.trend] or None,
            chart_type="bar",
            border=False,
        )
        state = ":red[needs attention]" if tile.bad else ":green[ok]"
        if tile.value is None and tile.shown is None:
            state = ":gray[not set up yet]"
        st.caption(f"{state} · {tile.note}")
        if app.has_page(tile.key):
            st.page_link(
                app.page(tile.key), label=f"Open {app.PAGES[tile.key][0]}", icon=":material/arrow_forward:"
            )


def _tiles(conn: psycopg.Connection[dict[str, Any]]) -> None:
    tiles = overview_tiles(conn)
    for start in range(0, len(tiles), COLUMNS):
        for column, tile in zip(st.columns(COLUMNS), tiles[start : start + COLUMNS], strict=False):
            with column:
                _tile(tile)


def render() -> None:
    st.title("Overview")
    st.caption("Health of the integration, read from the audit store. Trends cover the last hour.")

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(_tiles)

    body()
