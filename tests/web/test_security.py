"""Signed sessions and the login limiter, on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from web.security import LoginLimiter, SessionCodec

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


def test_failed_logins_are_counted_per_address_in_a_sliding_minute():
    limiter = LoginLimiter(per_minute=3)
    for second in range(3):
        limiter.failed("10.0.0.1", NOW + timedelta(seconds=second))
    assert limiter.is_blocked("10.0.0.1", NOW + timedelta(seconds=5))
    assert not limiter.is_blocked("10.0.0.2", NOW + timedelta(seconds=5))
    assert limiter.retry_after("10.0.0.1", NOW + timedelta(seconds=5)) == 56
    assert not limiter.is_blocked("10.0.0.1", NOW + timedelta(seconds=61))
    limiter.failed("10.0.0.3", NOW)
    limiter.succeeded("10.0.0.3")
    assert limiter.retry_after("10.0.0.3", NOW) == 0
