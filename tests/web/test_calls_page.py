"""The calls page (L1): own calls only, filters, and recordings played with range requests."""

# ruff: noqa: F811  (pytest fixtures imported from widget_support are parameters here)
from __future__ import annotations

import math
import struct
import wave
from datetime import timedelta
from pathlib import Path

from models.schema.calls import Call
from tests.web.widget_support import (  # noqa: F401  (fixtures)
    chromium,
    contexts,
    log_in,
    panel,
    screenshot,
)


def _wav(path: Path, seconds: float = 2.0) -> None:
    """A real 8 kHz mono WAV (a 440 Hz tone), as a PBX's MixMonitor writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 8000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(rate * seconds))
        )
        out.writeframes(frames)


async def _call(clock, linkedid: str, agent, **values) -> Call:
    defaults = {
        "direction": "in",
        "from_number": "+34911234567",
        "to_number": "900100200",
        "result": "answered",
        "started_at": clock.now() - timedelta(hours=1),
        "wait_seconds": 7,
        "talk_seconds": 125,
        "agent_id": agent.id,
        "agent_extension": agent.extension,
    }
    defaults.update(values)
    return await Call.create(linkedid=linkedid, **defaults)


async def test_calls_page_lists_own_calls_filters_and_plays_the_recording(
    panel, contexts, world, clock
):
    recordings = Path(panel.settings.ami.recordings_dir)
    _wav(recordings / "2026" / "11" / "25" / "luis-1.wav")
    _wav(recordings / "marta-1.wav")
    mine = await _call(
        clock,
        "c-1",
        world.luis,
        recording_path="2026/11/25/luis-1.wav",
        transcript="Agent: Buenos días.\nClient: Quería un presupuesto.",
    )
    await _call(
        clock,
        "c-2",
        world.luis,
        direction="out",
        from_number="101",
        to_number="+34600123456",
        result="no_answer",
        talk_seconds=0,
    )
    theirs = await _call(
        clock,
        "c-3",
        world.marta,
        from_number="+34955000111",
        recording_path=str(recordings / "marta-1.wav"),
    )
    outside = await _call(clock, "c-4", world.luis, recording_path="../../secret_key")
    absolute = await _call(clock, "c-5", world.luis, recording_path="/etc/passwd")
    old = await _call(clock, "c-6", world.luis, started_at=clock.now() - timedelta(days=40))

    page = await log_in(await contexts(), panel, "luis", world.password)
    await page.goto(panel.url + "/calls")
    rows = page.locator("tr.call")
    assert await rows.count() == 5
    assert await page.locator("tr.call:has-text('+34955000111')").count() == 0  # marta's
    row = page.locator(f"tr.call[data-call-id='{mine.id}']")
    assert "0:07" in await row.inner_text() and "2:05" in await row.inner_text()
    await row.locator("details.transcript summary").click()
    assert "presupuesto" in await row.locator("details.transcript pre").inner_text()

    # Filters: direction, result, period.
    await page.select_option("#flt-direction", "out")
    await page.click("#call-filters button[type=submit]")
    await page.wait_for_url("**direction=out**")
    assert await rows.count() == 1 and "+34600123456" in await rows.first.inner_text()
    await page.goto(panel.url + "/calls?period=30d")
    assert await page.locator(f"tr.call[data-call-id='{old.id}']").count() == 0
    await page.goto(panel.url + "/calls?result=no_answer")
    assert await rows.count() == 1
    await page.goto(panel.url + "/calls?direction=sideways")
    assert await page.locator(".field-error").count() == 1

    # The recording plays in the page: the browser's range request is answered with 206.
    await page.goto(panel.url + "/calls")
    audio = page.locator(f"tr.call[data-call-id='{mine.id}'] audio")
    async with page.expect_response(
        lambda r: r.url.endswith(f"/calls/{mine.id}/recording")
    ) as info:
        await audio.evaluate("a => { a.preload = 'auto'; a.load(); }")
    response = await info.value
    assert response.status == 206
    assert response.headers["content-range"].startswith("bytes 0-")
    await page.wait_for_function(
        "a => a.readyState >= 1 && a.duration > 1.9", arg=await audio.element_handle()
    )
    await screenshot(page, "calls-page")

    # Straight requests: a range, another agent's call, paths outside the folder.
    ranged = await page.request.get(
        f"{panel.url}/calls/{mine.id}/recording", headers={"Range": "bytes=0-99"}
    )
    assert ranged.status == 206 and len(await ranged.body()) == 100
    # Another agent's call is answered as if there were none (ids cannot be probed).
    assert (await page.request.get(f"{panel.url}/calls/{theirs.id}/recording")).status == 404
    assert (await page.request.get(f"{panel.url}/calls/{outside.id}/recording")).status == 403
    assert (await page.request.get(f"{panel.url}/calls/{absolute.id}/recording")).status == 403


async def test_an_admin_sees_every_call_and_hears_any_recording(panel, contexts, world, clock):
    recordings = Path(panel.settings.ami.recordings_dir)
    _wav(recordings / "marta-2.wav", seconds=0.5)
    theirs = await _call(clock, "c-7", world.marta, recording_path="marta-2.wav")
    await _call(clock, "c-8", world.luis, recording_path="missing.wav")
    page = await log_in(await contexts(), panel, "ana", world.password)
    await page.goto(panel.url + f"/calls?user={world.marta.id}")
    assert await page.locator("tr.call").count() == 1
    answer = await page.request.get(f"{panel.url}/calls/{theirs.id}/recording")
    assert answer.status == 200 and answer.headers["content-type"].startswith("audio/")
    missing = await Call.get(linkedid="c-8")
    assert (await page.request.get(f"{panel.url}/calls/{missing.id}/recording")).status == 404
