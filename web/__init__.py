"""The HTTP edge: Starlette routes, SSE, WebSocket and the static dashboard."""
