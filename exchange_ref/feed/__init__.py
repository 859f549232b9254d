"""Market data fan-out, independent of the transport (`exchange_ref.api.ws` adapts it to
WebSocket frames)."""
