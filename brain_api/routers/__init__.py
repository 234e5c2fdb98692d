"""One `APIRouter(prefix=..., tags=[...])` per resource; `brain_api.main` includes them."""
