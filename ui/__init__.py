"""What people see: texts, formatting, keyboards, callback data and Telegram's limits.

Pure functions of service DTOs and a translator, shared by the handlers and the scheduler's
jobs. Nothing here touches the database or makes business decisions.
"""
