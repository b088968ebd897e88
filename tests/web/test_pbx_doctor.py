"""The PBX doctor in the panel (issue 21): an admin sees the PBX's problems above the dashboard
until they are fixed, and Settings -> Telephony -> "Check the connection" shows every line, in
Spanish; an agent sees no box and may not run the check. The daemon's real doctor checks the
built-in simulator, set up with a manager user that may not originate."""

from __future__ import annotations

import html as html_lib

import aiohttp
import pytest

from daemon.doctor.monitor import PbxDoctor
from daemon.pbxsim import PbxSimulator
from daemon.pbxsim.inventory import ALL_CLASSES
from tests.daemon.pbxsim_fixtures import ami_settings
from tests.web.conftest import csrf_from, http_login, start_server, web_settings
from web.services import WebServices

BOX = "La conexión con la centralita tiene problemas"


@pytest.fixture
async def pbx():
    sim = PbxSimulator(speed=200.0)
    sim.endpoint_source = lambda: ["100", "101", "102"]
    sim.write_classes = set(ALL_CLASSES) - {"originate"}
    await sim.start()
    yield sim
    await sim.close()


@pytest.fixture
async def doctor_server(world, hub, clock, tmp_path, pbx):
    settings = web_settings(tmp_path)
    recordings = tmp_path / "monitor"
    recordings.mkdir()
    doctor = PbxDoctor(settings, ami_settings(pbx, recordings_dir=str(recordings)), clock)
    await doctor.check_now()  # what the daemon does once the AMI link has logged in
    runner, srv = await start_server(settings, hub, clock, WebServices(pbx_health=doctor))
    yield srv
    await runner.cleanup()


async def _page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200
        return html_lib.unescape(await resp.text())


async def _check(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    token = csrf_from(await _page(http, f"{url}/"))
    async with http.post(f"{url}/settings/telephony/check", data={"csrf_token": token}) as resp:
        return resp.status, html_lib.unescape(await resp.text())


async def test_an_admin_sees_the_problem_until_it_is_fixed(doctor_server, world, http, pbx):
    url = doctor_server.url
    await http_login(http, url, "ana", world.password)
    dashboard = await _page(http, f"{url}/")
    assert BOX in dashboard
    assert "Originate (llamar con un clic)" in dashboard
    assert "manager.conf [crm] write=" in dashboard
    assert 'href="/settings/telephony#pbx-doctor"' in dashboard

    telephony = await _page(http, f"{url}/settings/telephony")
    assert "Comprobar la conexión" in telephony
    assert "la centralita responde a Originate con «Permission denied»" in telephony

    pbx.write_classes = None  # the admin adds originate to write= in manager.conf
    status, page = await _check(http, url)
    assert status == 200
    assert "Conexión comprobada: ningún problema." in page
    assert "Inicio de sesión AMI" in page and "permitido (Originate)" in page
    assert 'data-check-status="problem"' not in page
    assert BOX not in await _page(http, f"{url}/")


async def test_the_check_reports_a_new_problem_in_spanish(doctor_server, world, http, pbx):
    await http_login(http, doctor_server.url, "ana", world.password)
    pbx.secret = "changed-on-the-pbx"
    status, page = await _check(http, doctor_server.url)
    assert status == 200
    assert "Conexión comprobada: 1 problema(s) encontrado(s)." in page
    assert "la centralita rechazó el inicio de sesión como 'crm': «Authentication failed»" in page
    assert "sin comprobar" in page


async def test_an_agent_sees_no_box_and_may_not_run_the_check(doctor_server, world, http, pbx):
    await http_login(http, doctor_server.url, "luis", world.password)
    assert BOX not in await _page(http, f"{doctor_server.url}/")
    logins = pbx.logins
    status, _ = await _check(http, doctor_server.url)
    assert status == 403
    assert pbx.logins == logins  # nothing was checked
