"""A built-in PBX simulator (X5): an AMI server over TCP that behaves like Asterisk."""

from daemon.pbxsim.calls import RemoteOutcome, SimCall
from daemon.pbxsim.server import PbxSimulator

__all__ = ["PbxSimulator", "RemoteOutcome", "SimCall"]
