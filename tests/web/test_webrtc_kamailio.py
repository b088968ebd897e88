"""WebRTC mode end to end (issue 20): two Chromiums with fake microphones call each other.

Each browser registers through the widget's sip.js to a real Kamailio (tests/web/kamailio.py)
with the SIP password saved, encrypted, in the user's profile; the callee hears the caller
(inbound RTP on its peer connection), hold and hang-up show on both widgets, and a wrong
password is reported in the widget with the server's answer.
"""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import pytest
from playwright.async_api import Page, async_playwright

from models.core.secret_box import secret_box_for
from models.people.profile import set_sip_password, sip_password_of
from models.schema.company import TelephonySettings
from models.schema.users import User
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, _browser_available, csrf_from, http_login
from tests.web.kamailio import Kamailio, require_kamailio
from tests.web.widget_support import Panel, log_in, panel, screenshot  # noqa: F401  (fixtures)

PASSWORDS = {"101": "sip-secret-101", "102": "sip-secret-102"}
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
async def media_browser():
    """A Chromium of its own whose microphone is Chromium's fake device (a beeping tone)."""
    _browser_available()
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *FAKE_MEDIA], headless=True
    )
    yield browser
    await browser.close()
    await playwright.stop()


@pytest.fixture
async def kamailio(tmp_path):
    require_kamailio()
    directory = tmp_path / "kamailio"
    directory.mkdir()
    async with Kamailio(directory, PASSWORDS) as server:
        yield server


async def _phone_of(browser, panel: Panel, username: str, password: str) -> Page:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["microphone"]
    )
    page = await log_in(context, panel, username, password)
    page.set_default_timeout(15_000)
    await page.click(".cw-toggle")
    return page


async def _save_sip_password(panel: Panel, user, password: str) -> None:
    box = secret_box_for("", panel.settings.data_dir)
    await set_sip_password(user, password, box)


async def test_two_browsers_register_call_hear_hold_and_hang_up(
    media_browser, kamailio, panel, world
):
    await TelephonySettings.filter().update(widget_mode="webrtc", webrtc_ws_url=kamailio.url)
    await _save_sip_password(panel, world.luis, PASSWORDS["101"])
    await _save_sip_password(panel, world.marta, PASSWORDS["102"])
    luis = await _phone_of(media_browser, panel, "luis", world.password)
    marta = await _phone_of(media_browser, panel, "marta", world.password)
    for page in (luis, marta):
        await page.locator("#call-widget[data-webrtc='Registered']").wait_for()
        assert "Web phone ready" in await page.locator("#cw-webrtc-state").inner_text()
    # No password field in the widget any more: the profile's saved password was used.
    assert await luis.locator("#cw-webrtc input[type=password]").count() == 0

    # Luis dials Marta's extension from the widget's dial box: her widget rings, she answers.
    await luis.fill("#cw-number", "102")
    await luis.click("#cw-call")
    await marta.locator("#cw-webrtc-incoming").wait_for(state="visible")
    assert "101" in await marta.locator("#cw-webrtc-from").inner_text()
    await marta.click("#cw-webrtc-answer")
    for page in (luis, marta):
        await page.locator("#call-widget[data-webrtc-call='established']").wait_for()

    # Marta hears Luis's microphone: RTP arrives on her peer connection, and it is not silence.
    await marta.wait_for_function(
        "() => Number(document.getElementById('call-widget').dataset.webrtcRx) > 0"
    )
    await marta.wait_for_function(
        "() => Number(document.getElementById('call-widget').dataset.webrtcLevel) > 0"
    )
    await screenshot(marta, "webrtc-answered")

    # Luis puts the call on hold: both widgets say so; then he resumes.
    await luis.click("#cw-webrtc-hold")
    await luis.locator("#call-widget[data-webrtc-call='held']").wait_for()
    assert "On hold" in await luis.locator("#cw-webrtc-call-state").inner_text()
    await marta.locator("#call-widget[data-webrtc-call='held-remote']").wait_for()
    assert "On hold" in await marta.locator("#cw-webrtc-call-state").inner_text()
    assert await luis.locator("#cw-webrtc-hold").inner_text() == "Resume"
    await luis.click("#cw-webrtc-hold")
    for page in (luis, marta):
        await page.locator("#call-widget[data-webrtc-call='established']").wait_for()

    # Marta hangs up: the call ends on both sides.
    await marta.click("#cw-webrtc-hangup")
    for page in (luis, marta):
        await page.locator("#call-widget[data-webrtc-call='ended']").wait_for()
        assert "Hung up" in await page.locator("#cw-webrtc-call-state").inner_text()
    await screenshot(luis, "webrtc-hung-up")


async def test_a_wrong_sip_password_shows_why_the_phone_is_not_registered(
    media_browser, kamailio, panel, world
):
    await TelephonySettings.filter().update(widget_mode="webrtc", webrtc_ws_url=kamailio.url)
    await _save_sip_password(panel, world.luis, "not-the-password")
    page = await _phone_of(media_browser, panel, "luis", world.password)
    await page.locator("#call-widget[data-webrtc-error='401']").wait_for()
    text = await page.locator("#cw-webrtc-state").inner_text()
    assert "Web phone not registered" in text
    assert "refused the SIP password" in text
    assert "401" in text
    await screenshot(page, "webrtc-wrong-password")


async def test_a_sip_server_that_does_not_answer_is_said_in_the_widget(media_browser, panel, world):
    await TelephonySettings.filter().update(
        widget_mode="webrtc", webrtc_ws_url="ws://127.0.0.1:9/ws"
    )
    await _save_sip_password(panel, world.luis, PASSWORDS["101"])
    page = await _phone_of(media_browser, panel, "luis", world.password)
    await page.locator("#call-widget[data-webrtc-error='server-down']").wait_for()
    assert "the SIP server does not answer" in await page.locator("#cw-webrtc-state").inner_text()


async def test_without_a_saved_sip_password_the_widget_points_to_the_profile(
    media_browser, panel, world
):
    await TelephonySettings.filter().update(
        widget_mode="webrtc", webrtc_ws_url="ws://127.0.0.1:9/ws"
    )
    page = await _phone_of(media_browser, panel, "luis", world.password)
    await page.locator("#call-widget[data-webrtc-error='no-password']").wait_for()
    assert "set it in your profile" in await page.locator("#cw-webrtc-state").inner_text()


def _profile_form(token: str, **extra: str) -> dict[str, str]:
    form = {"csrf_token": token, "full_name": "Luis Pérez", "extension": "101", "language": "en"}
    return {**form, **extra}


async def test_the_sip_password_is_saved_encrypted_from_the_profile_and_never_shown_back(
    world, world_server, http
):
    url = world_server.url
    box = secret_box_for("", world_server.settings.data_dir)
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/settings/profile") as resp:
        page = await resp.text()
    assert 'name="sip_password"' in page and 'placeholder="saved"' not in page
    form = _profile_form(csrf_from(page), sip_password="sip-secret-101")
    async with http.post(f"{url}/settings/profile", data=form) as resp:
        assert resp.status == 200
        page = await resp.text()
    user = await User.get(id=world.luis.id)
    assert "sip-secret-101" not in user.sip_password_sealed  # sealed, not in clear
    assert sip_password_of(user, box) == "sip-secret-101"
    assert "sip-secret-101" not in page and 'placeholder="saved"' in page

    # A form with an error is rendered back without the password typed into it.
    form = _profile_form(csrf_from(page), sip_password="another-one", email="not an email")
    async with http.post(f"{url}/settings/profile", data=form) as resp:
        assert resp.status == 422
        assert "another-one" not in await resp.text()

    # Saving the profile with the field left empty keeps the password; "forget" removes it.
    async with http.post(f"{url}/settings/profile", data=_profile_form(csrf_from(page))) as resp:
        assert resp.status == 200
    assert sip_password_of(await User.get(id=world.luis.id), box) == "sip-secret-101"
    form = _profile_form(csrf_from(page), forget_sip_password="1")
    async with http.post(f"{url}/settings/profile", data=form) as resp:
        assert 'placeholder="saved"' not in await resp.text()
    assert (await User.get(id=world.luis.id)).sip_password_sealed == ""


async def test_the_widget_state_gives_the_sip_login_only_in_webrtc_mode(world, world_server, http):
    url = world_server.url
    box = secret_box_for("", world_server.settings.data_dir)
    await set_sip_password(world.luis, PASSWORDS["101"], box)
    await set_sip_password(world.marta, PASSWORDS["102"], box)
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/api/widget/state") as resp:
        body = await resp.json()
    assert (body["sip_username"], body["sip_password"]) == ("", "")  # softphone mode
    await TelephonySettings.filter().update(widget_mode="webrtc", webrtc_ws_url="ws://x:1/ws")
    async with http.get(f"{url}/api/widget/state") as resp:
        assert resp.headers["Cache-Control"] == "no-store"
        body = await resp.json()
    # Luis's own login only, never a colleague's.
    assert (body["sip_username"], body["sip_password"]) == ("101", PASSWORDS["101"])
    assert PASSWORDS["102"] not in str(body)

    # A password sealed under another key asks to be entered again instead of failing.
    await User.filter(id=world.luis.id).update(sip_password_sealed="garbage")
    async with http.get(f"{url}/api/widget/state") as resp:
        body = await resp.json()
    assert (body["sip_password"], body["sip_problem"]) == ("", "unreadable")
