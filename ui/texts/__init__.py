"""Message texts, one module per screen; every function is pure (DTOs + translator -> HTML)."""
