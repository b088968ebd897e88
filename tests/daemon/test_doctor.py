"""The PBX doctor (issue 21) against the built-in simulator set up wrong, and against recorded
answers of a real Asterisk 22 served over TCP: each misbehaviour gives its line, with the file
and key to change; a healthy PBX gives only "ok" and `centralita doctor` exits 0."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from daemon.ami.wire import encode, parse_stream
from daemon.cli import build_parser
from daemon.doctor.context import load_context
from daemon.doctor.monitor import PbxDoctor
from daemon.doctor.runner import format_report, run_checks
from daemon.pbxsim.inventory import ALL_CLASSES
from models.core.settings import Settings
from models.people import users as user_ops
from tests.daemon import pbxsim_fixtures as fx
from tests.daemon.pbxsim_fixtures import ami_settings, eventually

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "tests" / "fixtures" / "ami-traces"  # recorded from real Asterisk servers
sim = fx.sim
make_link = fx.make_link


@pytest.fixture
def recordings(tmp_path, clock) -> Path:
    """A recordings folder holding one MixMonitor file from yesterday (the test's clock)."""
    folder = tmp_path / "monitor"
    folder.mkdir()
    wav = folder / "crm-rec-0001.wav"
    wav.write_bytes(b"RIFF")
    yesterday = (clock.now() - timedelta(days=1)).timestamp()
    os.utime(wav, (yesterday, yesterday))
    return folder


@pytest.fixture
def healthy(sim):
    """The simulator as a well set-up Asterisk: the team's phones are PJSIP endpoints."""
    sim.endpoint_source = lambda: ["100", "101", "102"]
    return sim


async def diagnose(sim, clock, recordings: Path, *, call: str = "", call_wait=30.0, **ami):
    settings = ami_settings(sim, recordings_dir=str(recordings), **ami)
    ctx = await load_context(Settings(), settings, clock.now(), call_extension=call)
    ctx.call_wait = call_wait
    return await run_checks(ctx)


def finding(report, key: str):
    [found] = [f for f in report.findings if f.key == key]
    return found


async def test_a_healthy_pbx_gives_only_ok(healthy, world, clock, recordings):
    report = await diagnose(healthy, clock, recordings)
    assert [(f.key, f.status) for f in report.findings] == [
        ("connection", "ok"),
        ("login", "ok"),
        ("version", "ok"),
        ("originate", "ok"),
        ("redirect", "ok"),
        ("coreshowchannels", "ok"),
        ("showdialplan", "ok"),
        ("call_events", "ok"),
        ("devices", "ok"),
        ("outbound_context", "ok"),
        ("trunks", "ok"),
        ("recordings", "ok"),
    ]
    text = format_report(report, "en")
    assert "AMI login: logged in as 'crm': “Authentication accepted”" in text
    assert "Asterisk 22.10.1 (supported: 13 and newer)" in text
    assert "[from-internal] reaches +34810123456, 810123456, 100" in text
    assert "PJSIP/carrier-00000001, recognised as an outside line" in text
    assert text.splitlines()[-1] == "no problem found"


async def test_a_refused_login_is_quoted_and_stops_the_checks(healthy, world, clock, recordings):
    report = await diagnose(healthy, clock, recordings, secret="wrong-secret")
    login = finding(report, "login")
    assert login.status == "problem"
    assert "“Authentication failed”" in login.message
    assert "manager.conf [crm] secret=" in login.where
    assert "config.toml [ami] username, secret" in login.where
    later = [f.status for f in report.findings[2:]]
    assert later and set(later) == {"not_checked"}
    spanish = format_report(report, "es")
    assert "problema: Inicio de sesión AMI" in spanish
    assert "sin comprobar" in spanish


async def test_many_phones_unknown_to_the_pbx_name_the_first_ten(healthy, world, clock, recordings):
    """A PBX that knows none of 200 phones: the line names ten users and counts the rest,
    instead of a line of 200 names (seen in the load bench's log)."""
    for n in range(200, 225):
        await user_ops.create_user(f"agent{n}", "secret-pass-1", extension=str(n))
    report = await diagnose(healthy, clock, recordings)
    devices = finding(report, "devices")
    assert devices.status == "problem"
    assert "25 of 28 users" in devices.message and "and 15 more" in devices.message
    assert devices.message.count("→") == 10
    assert "y 15 más" in format_report(report, "es")


async def test_nothing_listening_is_a_problem_with_host_and_port(db, clock, recordings):
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    settings = ami_settings(fx.PbxSimulator(port=port), recordings_dir=str(recordings))
    report = await run_checks(await load_context(Settings(), settings, clock.now()))
    first = report.findings[0]
    assert (first.key, first.status) == ("connection", "problem")
    assert f"127.0.0.1:{port}" in first.message and first.where == "config.toml [ami] host, port"
    assert report.findings[1].status == "not_checked"


async def test_each_misconfiguration_gives_its_line_with_file_and_key(
    healthy, world, clock, recordings
):
    healthy.write_classes = set(ALL_CLASSES) - {"originate"}  # a user without originate
    healthy.read_classes = {"system", "reporting"}  # ... nor the call read class
    await user_ops.create_user("pedro", "secret-pass-1", extension="103", full_name="Pedro Gil")
    healthy.define_context("pstn-only", {"_+X.": "Dial(PJSIP/${EXTEN}@carrier)"})
    old = (clock.now() - timedelta(days=10)).timestamp()
    for wav in recordings.iterdir():
        os.utime(wav, (old, old))
    report = await diagnose(healthy, clock, recordings, transfer_context="pstn-only")

    originate = finding(report, "originate")
    assert originate.status == "problem" and "“Permission denied”" in originate.message
    assert "'originate'" in originate.fix and originate.where == "manager.conf [crm] write="
    assert not healthy.received("Originate")[0].get("Channel")  # nothing was rung
    assert finding(report, "redirect").status == "ok"

    events = finding(report, "call_events")
    assert events.status == "problem" and events.where == "manager.conf [crm] read="
    assert "reporting,system" in events.message

    devices = finding(report, "devices")
    assert devices.status == "problem" and devices.where.startswith("pjsip.conf")
    assert "1 of 4 users" in devices.message and "Pedro Gil (103 → PJSIP/103)" in devices.message
    assert "Luis" not in devices.message

    transfer = finding(report, "transfer_context")
    assert transfer.status == "problem" and "[pstn-only] does not reach 100" in transfer.message
    assert transfer.where == "extensions.conf [pstn-only]; config.toml [ami] transfer_context"
    assert finding(report, "outbound_context").status == "ok"

    recordings_line = finding(report, "recordings")
    assert recordings_line.status == "warning" and "last 7 days" in recordings_line.message


async def test_a_missing_context_names_the_file_and_the_key(healthy, world, clock, recordings):
    report = await diagnose(healthy, clock, recordings, outbound_context="crm-outbound")
    outbound = finding(report, "outbound_context")
    assert outbound.status == "problem"
    assert "no context [crm-outbound]" in outbound.message
    assert outbound.where == "extensions.conf [crm-outbound]; config.toml [ami] outbound_context"
    assert not report.is_healthy


async def test_trunks_that_look_like_phones_or_patterns_that_catch_phones(
    healthy, world, clock, recordings
):
    healthy.define_context(
        "from-internal", {"_X.": "Dial(PJSIP/${EXTEN})", "_+X.": "Dial(PJSIP/${EXTEN}@102)"}
    )
    trunks = finding(await diagnose(healthy, clock, recordings), "trunks")
    assert trunks.status == "problem" and "pjsip.conf" in trunks.where
    assert "PJSIP/102-00000001" in trunks.message and "Marta Núñez" in trunks.message

    healthy.define_context("from-internal", {"_+X.": "Dial(Local/${EXTEN}@pstn-carrier)"})
    trunks = finding(await diagnose(healthy, clock, recordings), "trunks")
    assert trunks.status == "problem" and "'Local/*@pstn-carrier-*'" in trunks.fix
    assert trunks.where == "config.toml [ami] trunk_channels"
    fixed = await diagnose(healthy, clock, recordings, trunk_channels=["Local/*@pstn-carrier-*"])
    assert finding(fixed, "trunks").status == "ok"

    caught = await diagnose(healthy, clock, recordings, trunk_channels=["PJSIP/*"])
    trunks = finding(caught, "trunks")
    assert trunks.status == "problem" and "PJSIP/100, the phone of Ana García" in trunks.message


async def test_a_test_call_reports_what_the_crm_saw(healthy, world, clock, recordings):
    report = await diagnose(healthy, clock, recordings, call="101")
    call = finding(report, "test_call")
    assert (call.status, call.message) == ("ok", "the CRM saw: ringing, answered, hung up")
    [originate] = [a for a in healthy.received("Originate") if a.get("Channel")]
    assert originate["Channel"] == "PJSIP/101" and originate["Application"] == "Wait"

    healthy.script_agent("102", "noanswer")
    report = await diagnose(healthy, clock, recordings, call="102")
    assert finding(report, "test_call").message == "the CRM saw: ringing, hung up"

    healthy.read_classes = {"system", "reporting"}  # the phone rings, no call event arrives
    report = await diagnose(healthy, clock, recordings, call="101", call_wait=1.0)
    call = finding(report, "test_call")
    assert call.status == "problem" and "saw no call for extension 101" in call.message


# -- recorded answers of a real Asterisk 22 ------------------------------------------------


def _recorded(trace: str, action_id: str) -> list[dict[str, str]]:
    text = (TRACES / trace).read_text()
    return [m for m in parse_stream(text) if m.get("ActionID") == action_id]


class RecordedAsterisk:
    """Answers each action with what a real Asterisk answered it in a recording (ActionID
    rewritten); an action no recording answers gets Asterisk's recorded `Permission denied`."""

    def __init__(self, answers: dict[str, tuple[str, str]], *, close_after_login: bool = False):
        self.answers = answers
        self.close_after_login = close_after_login
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RecordedAsterisk:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        banner = (TRACES / "login_failed.ami").read_bytes().split(b"\r\n", 1)[0]
        writer.write(banner + b"\r\n")
        buffer = b""
        while data := await reader.read(65536):
            buffer += data
            while b"\r\n\r\n" in buffer:
                block, buffer = buffer.split(b"\r\n\r\n", 1)
                [action] = parse_stream(block.decode() + "\r\n\r\n")
                name = action["Action"].lower()
                trace, recorded_id = self.answers.get(
                    name, ("action_without_login.ami", "action_without_login-1")
                )
                for message in _recorded(trace, recorded_id):
                    writer.write(encode({**message, "ActionID": action.get("ActionID", "")}))
                await writer.drain()
                if name == "login" and self.close_after_login or name == "logoff":
                    writer.close()
                    return
        writer.close()


async def test_recorded_refused_login_is_quoted(db, clock, recordings):
    async with RecordedAsterisk(
        {"login": ("login_failed.ami", "login_failed-1")}, close_after_login=True
    ) as pbx:
        settings = ami_settings(fx.PbxSimulator(port=pbx.port), recordings_dir=str(recordings))
        report = await run_checks(await load_context(Settings(), settings, clock.now()))
    login = finding(report, "login")
    assert login.status == "problem" and "“Authentication failed”" in login.message


async def test_recorded_asterisk_version_and_refusals(db, clock, recordings):
    answers = {
        "login": ("show_channels.ami", "show_channels-1"),
        "command": ("show_channels.ami", "show_channels-3"),  # core show version
        "coreshowchannels": ("show_channels.ami", "show_channels-4"),
    }
    async with RecordedAsterisk(answers) as pbx:
        settings = ami_settings(fx.PbxSimulator(port=pbx.port), recordings_dir=str(recordings))
        report = await run_checks(await load_context(Settings(), settings, clock.now()))
    assert finding(report, "version").message == "Asterisk 22.10.1 (supported: 13 and newer)"
    assert finding(report, "originate").status == "problem"
    assert finding(report, "coreshowchannels").status == "ok"
    assert finding(report, "devices").status == "warning"  # it would not list its devices


# -- the command line ----------------------------------------------------------------------


async def test_centralita_doctor_prints_spanish_lines_and_exits(
    healthy, world, clock, recordings, db_url, tmp_path
):
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {
        **os.environ,
        "CENTRALITA_DATABASE__URL": db_url,
        "CENTRALITA_DATA_DIR": str(tmp_path / "data"),
        "CENTRALITA_AMI__HOST": "127.0.0.1",
        "CENTRALITA_AMI__PORT": str(healthy.port),
        "CENTRALITA_AMI__USERNAME": healthy.username,
        "CENTRALITA_AMI__SECRET": healthy.secret,
        "CENTRALITA_AMI__RECORDINGS_DIR": str(recordings),
        "CENTRALITA_AMI__OUTBOUND_CONTEXT": "crm-outbound",
        "LANG": "es_ES.UTF-8",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon.cli",
        "--config",
        str(config),
        "doctor",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = out.decode()
    assert proc.returncode == 1, text
    assert "correcto: Inicio de sesión AMI" in text
    assert "problema: Contexto de salida" in text and "extensions.conf [crm-outbound]" in text


def test_without_a_pbx_the_command_says_so_plainly(capsys):
    parser = build_parser()
    args = parser.parse_args(["doctor", "--lang", "en"])
    assert args.func(args, Settings()) == 0
    out = capsys.readouterr().out
    assert "no PBX is configured ([ami] host is empty)" in out
    assert out.splitlines()[-1] == "no problem found"
    args = parser.parse_args(["doctor", "--call", "101; rm"])
    assert args.func(args, Settings()) == 2
    assert "--call: '101; rm' is not an extension" in capsys.readouterr().out


def test_every_doctor_message_has_a_spanish_translation():
    with (ROOT / "models/locale/es/LC_MESSAGES/messages.po").open("rb") as fh:
        translated = {m.id for m in read_po(fh, locale="es") if m.id and m.string}
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT),
            [("daemon/doctor/**.py", "python"), ("models/telephony/pbx_health.py", "python")],
            keywords={"msg": None},
        )
    }
    assert "AMI login" in found
    assert sorted(found - translated) == []


# -- in the running product: after each login of the AMI link --------------------------------


async def test_the_daemon_checks_after_each_login_and_logs_a_problem_once(
    healthy, world, clock, recordings, make_link, caplog
):
    caplog.set_level(logging.INFO, logger="daemon.doctor.monitor")
    healthy.write_classes = set(ALL_CLASSES) - {"originate"}
    link, _, _ = await make_link(wait=False, recordings_dir=str(recordings))
    doctor = PbxDoctor(Settings(), link.settings, clock, recheck_seconds=0.1)
    link.on_ready = doctor.link_ready
    doctor.start()
    try:
        await eventually(lambda: doctor.latest is not None)
        first = doctor.latest
        assert first is not None and [f.key for f in first.problems] == ["originate"]
        # While the problem stays, the checks run again (no reconnect needed) ...
        await eventually(lambda: healthy.logins >= 4)
        assert link.connections == 1
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        # ... and the problem is logged once.
        assert [r.getMessage() for r in warnings] == [
            "PBX doctor: problem: Originate (click-to-call): the PBX answers Originate with "
            "“Permission denied” Fix: add 'originate' to the manager user's write= "
            "[manager.conf [crm] write=]"
        ]

        healthy.write_classes = None  # fixed in manager.conf (a reload keeps the link up)
        await eventually(lambda: doctor.latest is not None and doctor.latest.is_healthy)
        assert link.connections == 1
        assert any("fixed" in r.getMessage() for r in caplog.records if r.levelname == "INFO")

        healthy_report = doctor.latest
        await healthy.drop_clients()  # the PBX restarts: the link logs in again, checks again
        await eventually(lambda: doctor.latest is not healthy_report)
        assert link.connections == 2 and doctor.latest.is_healthy
    finally:
        await doctor.stop()


async def test_the_built_in_simulator_is_not_blamed_for_recording_nothing(
    healthy, world, clock, tmp_path
):
    """A fresh install runs on the simulator: no recordings folder is no warning there, while
    the same empty folder on a real PBX is one (set up MixMonitor)."""
    settings = ami_settings(healthy, recordings_dir=str(tmp_path / "missing"))
    real = await run_checks(await load_context(Settings(), settings, clock.now()))
    assert finding(real, "recordings").status == "problem"
    ctx = await load_context(Settings(), settings, clock.now(), simulated=True)
    simulated = await run_checks(ctx)
    line = finding(simulated, "recordings")
    assert line.status == "ok" and "simulator" in line.message
    assert simulated.is_healthy
