"""The live feed: alert and cell-state changes fanned out to SSE/WebSocket clients within a second,
from the alerts/incidents topics and from transitions made in this process.
"""
