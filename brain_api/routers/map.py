"""Live map data: H3 cells with status and heat, devices clustered on the server.

Both layers answer in the caller's scope (a grid worker sees its cells, a department its categories and
alerts) and never with more than `MAX_FEATURES` features, whatever bbox and zoom the client sends. The
bodies are serialised with orjson straight from the layer builders; `response_model` documents them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Query, Response, status

from brain_api.deps import CacheDep, CurrentUser, StoreDep, rate_limit
from brain_api.mapping.cells import cell_layer
from brain_api.mapping.devices import device_layer
from brain_api.mapping.models import CellCollection, DeviceCollection
from brain_api.mapping.viewport import BBox
from brain_api.response_cache import scope_key

router = APIRouter(prefix="/api/v1/map", tags=["map"], dependencies=[rate_limit("map")])

MAX_FEATURES = 2000
#: The map layers change slowly (15-minute heat, device status follows alerts that the live feed pushes):
#: their shared answers are kept this many times the cache's base TTL.
MAP_TTL_SCALE = 5.0
BBoxParam = Annotated[str, Query(
    description="minLon,minLat,maxLon,maxLat (WGS84)", examples=["120.0,30.1,120.4,30.4"], max_length=200,
)]
ZoomParam = Annotated[int, Query(ge=0, le=22, description="web-map zoom level of the view")]


def _bbox(text: str) -> BBox:
    try:
        return BBox.parse(text)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"bbox: {exc}") from exc


def _bytes(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get("/cells", response_model=CellCollection, summary="Grid cells with status, incidents and heat")
async def map_cells(
    store: StoreDep, user: CurrentUser, cache: CacheDep, bbox: BBoxParam, zoom: ZoomParam,
    metric: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:/@+\-]{1,128}$",
                                        description="heat = mean of this metric; omitted: readings")] = None,
    minutes: Annotated[int, Query(ge=1, le=1440, description="heat window, from the per-minute rollup")] = 15,
) -> Response:
    """Cells (H3; coarser parents when zoomed out) in the bbox that had readings in the last `minutes` or
    have open alerts. `status` is `alert` for an open high/critical alert, `warning` for a lower one."""
    box = _bbox(bbox)

    def layer() -> bytes:
        return orjson.dumps(cell_layer(store, user, box, zoom, metric=metric, minutes=minutes, cap=MAX_FEATURES,
                                       now=datetime.now(UTC)))

    key = ("map.cells", scope_key(user), box, zoom, metric, minutes)
    return _bytes(await cache.serve(key, layer, scale=MAP_TTL_SCALE))


@router.get("/devices", response_model=DeviceCollection, summary="Devices, clustered on the server")
async def map_devices(
    store: StoreDep, user: CurrentUser, cache: CacheDep, bbox: BBoxParam, zoom: ZoomParam
) -> Response:
    """Below zoom 16, devices are grouped on a grid sized by the zoom (a cluster carries count, centroid,
    extent and worst status; a lone device comes back as itself); from zoom 16 on, one feature per device.
    `meta.truncated` says the cap cut the answer: zoom in."""
    box = _bbox(bbox)

    def layer() -> bytes:
        return orjson.dumps(device_layer(store, user, box, zoom, cap=MAX_FEATURES))

    key = ("map.devices", scope_key(user), box, zoom)
    return _bytes(await cache.serve(key, layer, scale=MAP_TTL_SCALE))
