"""A real SIP-over-WebSocket registrar and proxy for the WebRTC tests: Kamailio (Debian package).

Started in the foreground on a free loopback port with its own kamailio.cfg in a temporary
directory: REGISTER is checked with digest authentication against the passwords the test gives
(so a wrong password is refused with 401), INVITEs are routed to the registered WebSocket
contact, in-dialog requests follow Record-Route and the Contact alias (as in Kamailio's
WebSocket example). Media flows browser to browser (ICE host candidates on loopback), so no
rtpengine is needed. Missing Kamailio skips the tests on a workstation and fails them in CI.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
_SAFE = re.compile(r"^[A-Za-z0-9_.@+-]+$")

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=tcp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
tcp_accept_no_cl=yes
mpath="{modules}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "nathelper.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"

modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 600)
modparam("nathelper|registrar", "received_avp", "$avp(RECEIVED)")
modparam("rr", "append_fromtag", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (nat_uac_test(64)) {{
        force_rport();
        if (is_method("REGISTER")) {{
            fix_nated_register();
        }} else if (!add_contact_alias()) {{
            sl_send_reply("400", "Bad Request");
            exit;
        }}
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            handle_ruri_alias();
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) t_relay();
        exit;
    }}
    t_check_trans();
    if (is_method("REGISTER")) {{
        route(AUTH);
        if (!save("location")) sl_reply_error();
        exit;
    }}
    record_route();
    if (!lookup("location")) {{
        sl_send_reply("404", "Not Found");
        exit;
    }}
    t_on_reply("WS_REPLY");
    if (!t_relay()) sl_reply_error();
}}

route[AUTH] {{
    $var(pw) = "";
{passwords}
    if ($au != $tU || $var(pw) == "" || !pv_www_authenticate("$td", "$var(pw)", "0")) {{
        www_challenge("$td", "0");
        exit;
    }}
    consume_credentials();
}}

onreply_route[WS_REPLY] {{
    if (nat_uac_test(64)) add_contact_alias();
}}

event_route[xhttp:request] {{
    set_reply_close();
    set_reply_no_connect();
    if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {{
        if (ws_handle_handshake()) exit;
    }}
    xhttp_reply("404", "Not Found", "", "");
}}
"""


def kamailio_installed() -> bool:
    return Path(KAMAILIO).exists() and Path(MODULES, "websocket.so").exists()


def require_kamailio() -> None:
    """Skip without Kamailio on a workstation; in CI (CI=true) a missing Kamailio fails."""
    if kamailio_installed():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            "kamailio is missing in CI: apt-get install kamailio kamailio-websocket-modules"
        )
    pytest.skip("kamailio is not installed (apt-get install kamailio kamailio-websocket-modules)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path, port: int, passwords: dict[str, str]) -> Path:
    lines = []
    for user, password in passwords.items():
        if not (_SAFE.match(user) and _SAFE.match(password)):
            raise ValueError(f"unsafe SIP user or password for the test config: {user!r}")
        lines.append(f'    if ($au == "{user}") $var(pw) = "{password}";')
    path = directory / "kamailio.cfg"
    text = CONFIG.format(port=port, modules=MODULES, passwords="\n".join(lines))
    path.write_text(text)
    return path


class Kamailio:
    """`async with Kamailio(tmp, {"101": "pw"}) as sip:` -> sip.url is the ws:// address."""

    def __init__(self, directory: Path, passwords: dict[str, str]) -> None:
        self.directory = directory
        self.passwords = passwords
        self.port = _free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.log = directory / "kamailio.log"
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Kamailio:
        config = write_config(self.directory, self.port, self.passwords)
        check = await asyncio.create_subprocess_exec(
            KAMAILIO, "-c", "-f", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await check.communicate()
        if check.returncode != 0:
            raise RuntimeError(f"kamailio.cfg does not parse:\n{out.decode(errors='replace')}")
        with self.log.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                KAMAILIO, "-f", str(config), "-DD", "-E", "-m", "64", "-M", "8",
                "-P", str(self.directory / "kamailio.pid"), "-Y", str(self.directory),
                stdout=log, stderr=log,
            )  # fmt: skip
        await self._wait_listening()
        return self

    async def _wait_listening(self, within: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while True:
            if self._process is not None and self._process.returncode is not None:
                raise RuntimeError(f"kamailio exited:\n{self.log.read_text(errors='replace')}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if loop.time() > end:
                    raise RuntimeError("kamailio did not listen in time") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
