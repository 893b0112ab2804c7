"""A local Telegram Bot API sandbox: the real bot runs against it unchanged.

See ``sandbox/README.md`` for the Python API, the control API and the web chat.
"""

from sandbox.config import IdentitiesProvider, Identity, LimitsConfig, SandboxConfig
from sandbox.server import Sandbox, create_app
from sandbox.state import SandboxState

__all__ = [
    "IdentitiesProvider",
    "Identity",
    "LimitsConfig",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "create_app",
]
