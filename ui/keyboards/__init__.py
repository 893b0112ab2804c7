"""Keyboards: pure functions of service DTOs and a translator."""
