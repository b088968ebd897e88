"""A built-in PBX simulator (X5): an AMI server over TCP that behaves like Asterisk 22.

    sim = PbxSimulator(port=0, username="crm", secret="crm-secret", speed=100)
    await sim.start()                       # sim.port is the port it listens on
    call = await sim.inbound_call("+34911234567", "900100200", ["101", "102"],
                                  answer_by="101", answer_after=2, talk=30)
    await call.done()                       # call.linkedid names it in the events
    sim.script_number("+34911234569", "busy")   # answer|noanswer|busy|congestion|unallocated
    sim.script_agent("102", "noanswer")         # answer|noanswer|busy
    await sim.outbound_call("101", "+34911234567")
    sim.received("Originate")               # the actions clients sent, as dicts
    sim.define_context("colleagues", ["101", "102"])  # the dialplan (ShowDialPlan, Redirect)
    await sim.stop(); await sim.start()     # the PBX goes away and comes back (same port)
    await sim.close()

Originate (click-to-call), Redirect, Hangup, ShowDialPlan, CoreShowChannels, Ping, Events,
Login and Logoff are answered as Asterisk answers them (a Redirect into an extension the
dialplan lacks hangs the channel up, as on Asterisk); events follow the recordings in
tests/fixtures/ami-traces. `PbxSimulator(replay=Trace.load(path))` serves a recording
instead (daemon.pbxsim.replay); `DemoTraffic` (daemon.pbxsim.demo) makes random calls.

For the PBX doctor it can be set up wrong (daemon.pbxsim.inventory): `sim.write_classes` /
`sim.read_classes` (the manager user's write= / read=; an action outside them answers
`Permission denied`, an event outside them is not sent), `sim.endpoints` or
`sim.endpoint_source` (PJSIPShowEndpoints, DeviceStateList), `sim.version` (CoreSettings),
and `Command` answers `manager show user` and `core show version`.
"""

from daemon.pbxsim.calls import RemoteOutcome, SimCall
from daemon.pbxsim.server import PbxSimulator

__all__ = ["PbxSimulator", "RemoteOutcome", "SimCall"]
