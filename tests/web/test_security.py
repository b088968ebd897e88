"""The session cookie, the login throttle's policy, client addresses and the CSP, on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request
from pydantic import ValidationError

from models.core.settings import WebSettings
from models.people.login_throttle import ThrottlePolicy
from models.people.sessions import device_of
from web.security import LoginPolicy, SessionCodec
from web.security_headers import content_security_policy, websocket_origin

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_a_session_cookie_cannot_be_forged_or_used_after_it_expires():
    codec = SessionCodec(b"key-one", lifetime=timedelta(hours=12), secure=False)
    cookie = codec.dumps(
        {"uid": 2, "csrf": "t", "exp": int((NOW + timedelta(hours=12)).timestamp())}
    )
    assert codec.loads(cookie, NOW)["uid"] == 2
    payload, signature = cookie.rsplit(".", 1)
    forged = codec.dumps({"uid": 1, "exp": 9_999_999_999}).rsplit(".", 1)[0] + "." + signature
    assert codec.loads(forged, NOW) == {}
    other_key = SessionCodec(b"key-two", lifetime=timedelta(hours=12), secure=False)
    assert other_key.loads(cookie, NOW) == {}
    assert codec.loads(cookie, NOW + timedelta(hours=13)) == {}
    assert codec.loads("garbage", NOW) == {}


def test_account_locks_double_from_30_seconds_up_to_15_minutes():
    policy = ThrottlePolicy(account_failures=5)
    locks = [policy.account_lock(failures) for failures in range(5, 13)]
    assert [int(lock.total_seconds()) for lock in locks] == [30, 60, 120, 240, 480, 900, 900, 900]
    assert policy.account_lock(10_000) == timedelta(minutes=15)


def _request(remote: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport = mock.Mock()
    transport.get_extra_info.return_value = (remote, 50000)
    return make_mocked_request("POST", "/login", headers=headers, transport=transport)


def test_the_client_address_believes_forwarded_for_only_from_trusted_proxies():
    direct = LoginPolicy(ThrottlePolicy(), [])
    assert direct.client_address(_request("192.0.2.10", "203.0.113.5")) == "192.0.2.10"
    proxied = LoginPolicy(ThrottlePolicy(), ["10.0.0.0/8", "127.0.0.1"])
    # The nearest address that is not a proxy of ours; what a client wrote before it is not.
    assert proxied.client_address(_request("127.0.0.1", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
    chain = _request("127.0.0.1", "203.0.113.5, 10.1.2.3")
    assert proxied.client_address(chain) == "203.0.113.5"
    assert proxied.client_address(_request("127.0.0.1", "garbage, 10.1.2.3")) == "10.1.2.3"
    assert proxied.client_address(_request("127.0.0.1")) == "127.0.0.1"
    # A connection from elsewhere cannot choose its address with the header.
    assert proxied.client_address(_request("192.0.2.10", "203.0.113.5")) == "192.0.2.10"


def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused_naming_it():
    with pytest.raises(ValidationError, match="'proxy.local' is not an IP address or network"):
        WebSettings(trusted_proxies=["proxy.local"])


def test_the_profile_names_browsers_and_systems():
    chrome_android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    edge_windows = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
    )
    safari_mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15"
    )
    firefox_linux = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert device_of(chrome_android) == "Chrome · Android"
    assert device_of(edge_windows) == "Edge · Windows"
    assert device_of(safari_mac) == "Safari · macOS"
    assert device_of(firefox_linux) == "Firefox · Linux"
    assert device_of("curl/8.11") == ""


def test_the_web_phone_server_enters_the_policy_only_as_a_plain_origin():
    assert websocket_origin("wss://pbx.example.com:8089/ws") == "wss://pbx.example.com:8089"
    assert websocket_origin("ws://10.0.0.5/ws") == "ws://10.0.0.5"
    assert websocket_origin("wss://[2001:db8::1]:8089/ws") == "wss://[2001:db8::1]:8089"
    assert websocket_origin("wss://pbx.example.com; script-src *") == ""
    assert websocket_origin("wss://pbx example.com") == ""
    assert websocket_origin("https://pbx.example.com") == ""
    assert websocket_origin("wss://pbx.example.com:99999") == ""
    policy = content_security_policy("wss://pbx.example.com:8089")
    assert "connect-src 'self' wss://pbx.example.com:8089" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
