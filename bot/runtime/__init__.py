"""The bot as a long-running process: polling or webhook, health, metrics, backoff, shutdown.

`serve.BotRuntime` puts the pieces together; the composition root (`bot.app`) uses the
smaller parts (metrics, the update guard, the poller) when it wires an `Application`.
"""
