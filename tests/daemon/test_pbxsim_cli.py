"""The command line: `centralita pbx-sim --replay` and `centralita call`, as real processes."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from daemon.ami.link import AmiLink
from daemon.ami.traces import load_events
from models.core.settings import AmiSettings
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import Recorder, RecordingSleep, eventually

sim = fx.sim
TRACE = Path(__file__).parents[1] / "fixtures" / "ami-traces" / "inbound_unknown_answered.ami"
ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def centralita(*args: str, cwd: Path, **env: str) -> asyncio.subprocess.Process:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    environ.update(env)
    environ["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon.cli",
        *args,
        cwd=cwd,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_pbx_sim_replays_a_trace_to_a_client_that_logs_in(tmp_path):
    port = free_port()
    proc = await centralita(
        "pbx-sim", "--replay", str(TRACE), "--port", str(port), "--once", cwd=tmp_path
    )
    try:
        banner = b""
        while b"replaying" not in banner:  # log lines may come first
            banner = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert banner, "pbx-sim exited early"
        assert str(port).encode() in banner
        rec = Recorder()
        settings = AmiSettings(host="127.0.0.1", port=port, username="crm", secret="crm-secret")
        link = AmiLink(settings, rec.on_event, rec.on_resync, sleep=RecordingSleep())
        await link.start()
        try:
            expected = [
                e for e in load_events(TRACE) if e["Event"] not in ("FullyBooted", "SuccessfulAuth")
            ]
            await eventually(lambda: len(rec.events) == len(expected) + 1, within=30)
        finally:
            await link.stop()
        assert rec.events[1:] == expected
        assert await asyncio.wait_for(proc.wait(), 30) == 0  # --once: exits after the replay
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_pbx_sim_demo_mode_makes_calls_for_the_crm_users(world, db_url, tmp_path):
    port = free_port()
    env = {"CENTRALITA_DATABASE__URL": db_url}
    proc = await centralita("pbx-sim", "--port", str(port), "--speed", "100", cwd=tmp_path, **env)
    try:
        line = b""
        while b"demo calls" not in line:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, "pbx-sim exited early"
        rec = Recorder()
        settings = AmiSettings(host="127.0.0.1", port=port, username="crm", secret="crm-secret")
        link = AmiLink(settings, rec.on_event, rec.on_resync, sleep=RecordingSleep())
        await link.start()
        try:
            await eventually(lambda: len({e["Linkedid"] for e in rec.named("Hangup")}) >= 3, 60)
        finally:
            await link.stop()
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0  # a clean stop on SIGTERM
    agents = {e["Channel"].split("-")[0] for e in rec.named("Newchannel")} - {"PJSIP/carrier"}
    assert agents and agents <= {"PJSIP/100", "PJSIP/101", "PJSIP/102"}  # ana, luis, marta


async def test_pbx_sim_refuses_a_missing_trace(tmp_path):
    proc = await centralita("pbx-sim", "--replay", str(tmp_path / "nope.ami"), cwd=tmp_path)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"no such trace file" in out


def _env(sim, db_url: str, **extra: str) -> dict[str, str]:
    env = {
        "CENTRALITA_DATABASE__URL": db_url,
        "CENTRALITA_AMI__HOST": "127.0.0.1",
        "CENTRALITA_AMI__PORT": str(sim.port),
        "CENTRALITA_AMI__USERNAME": sim.username,
        "CENTRALITA_AMI__SECRET": sim.secret,
    }
    env.update(extra)
    return env


async def test_call_rings_the_user_then_the_number(sim, world, db_url, tmp_path):
    sim.script_number("+34911234567", "answer", ring=2, talk=5)
    proc = await centralita("call", "luis", "+34 911 23 45 67", cwd=tmp_path, **_env(sim, db_url))
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "ringing extension 101" in text
    assert "dialing +34 911 23 45 67" in text
    assert "connected" in text
    [originate] = sim.received("Originate")
    assert originate["Channel"] == "PJSIP/101" and originate["Exten"] == "+34911234567"


async def test_call_reports_why_it_failed(sim, world, db_url, tmp_path):
    sim.script_agent("101", "noanswer")
    proc = await centralita("call", "luis", "+34911234567", cwd=tmp_path, **_env(sim, db_url))
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "failed: the agent did not answer extension 101" in out.decode()


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (("nobody", "+34911234567"), {}, "no active user named 'nobody'"),
        (("luis", "+34911234567"), {"CENTRALITA_AMI__HOST": ""}, "no PBX is configured"),
    ],
)
async def test_call_refusals_exit_with_2(sim, world, db_url, tmp_path, args, extra, message):
    proc = await centralita("call", *args, cwd=tmp_path, **_env(sim, db_url, **extra))
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and message in out.decode()


async def test_call_with_a_wrong_secret_says_so(sim, world, db_url, tmp_path):
    env = _env(sim, db_url, CENTRALITA_AMI__SECRET="wrong", CENTRALITA_AMI__ACTION_TIMEOUT="1")
    proc = await centralita("call", "luis", "+34911234567", cwd=tmp_path, **env)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and "Authentication failed" in out.decode()
    assert sim.received("Originate") == []
