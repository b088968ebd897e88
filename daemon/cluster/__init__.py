"""Several `centralita run` instances sharing one PostgreSQL: their hubs joined (bridge.py)."""

from daemon.cluster.bridge import HubBridge
from daemon.cluster.codec import UnknownMessage, decode, encode

__all__ = ["HubBridge", "UnknownMessage", "decode", "encode"]
