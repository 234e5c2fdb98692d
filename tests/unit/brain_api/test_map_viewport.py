"""Viewport rules that bound the map payload: bbox parsing, grid step, H3 resolution per zoom."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brain_api.mapping.viewport import BBox, cell_resolution, cluster_step


@pytest.mark.parametrize("text", ["", "1,2,3", "a,b,c,d", "1,2,3,4,5", "120,30,119,31", "120,31,121,30",
                                  "nan,30,121,31", "-181,30,121,31", "120,30,121,91"])
def test_bad_bboxes_are_refused(text):
    with pytest.raises(ValueError):
        BBox.parse(text)


@given(
    west=st.floats(-180, 179), south=st.floats(-90, 89),
    width=st.floats(1e-6, 360), height=st.floats(1e-6, 180),
    zoom=st.integers(0, 22), cap=st.integers(4, 5000),
)
def test_grid_squares_in_any_bbox_never_exceed_the_cap(west, south, width, height, zoom, cap):
    box = BBox(west, south, min(180.0, west + width), min(90.0, south + height))
    step = cluster_step(zoom, box, cap)
    # squares the grid (anchored at 0,0) can touch inside the box
    nx = math.floor(box.east / step) - math.floor(box.west / step) + 1
    ny = math.floor(box.north / step) - math.floor(box.south / step) + 1
    assert nx * ny <= cap


def test_step_follows_the_zoom_when_the_cap_allows():
    box = BBox(120.0, 30.0, 120.05, 30.05)
    steps = [cluster_step(z, box, 2000) for z in range(8, 16)]
    assert all(a == pytest.approx(2 * b) for a, b in zip(steps, steps[1:], strict=False))


def test_resolution_never_increases_when_zooming_out():
    res = [cell_resolution(z) for z in range(22, -1, -1)]
    assert res == sorted(res, reverse=True) and res[0] == 8 and res[-1] == 4
