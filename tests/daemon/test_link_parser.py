"""The link's own AMI message parser (faster than panoramisk's, and as exact)."""

from __future__ import annotations

import pytest

from daemon.ami.guards import parse_block
from daemon.ami.traces import parse_ami_text
from tests.daemon.test_pbxsim_scenarios import FIXTURES


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("Event: Hangup\r\nCause: 16", {"Event": "Hangup", "Cause": "16"}),
        ("Event: X\r\nAccountCode: ", {"Event": "X", "AccountCode": ""}),
        ("Event: X\r\nMessage: a: b", {"Event": "X", "Message": "a: b"}),
        ("Event: X\r\nKey: v: w\r\nX: \r\nY:", {"Event": "X", "Key": "v: w", "X": "", "Y": ""}),
        ("Event: X\r\nVariable: a=1\r\nVariable: b=2", {"Event": "X", "Variable": "a=1\nb=2"}),
        ("Event: X\r\nnot a header\r\nK: v", {"Event": "X", "K": "v"}),
        ("no header at all", None),
    ],
)
def test_parse_block(block, expected):
    assert parse_block(block) == expected


def test_parse_block_agrees_with_the_trace_loader_on_every_recording():
    for path in sorted((FIXTURES / "ami-traces").glob("*.ami")):
        text = path.read_bytes().decode("utf-8")
        text = text.split("\r\n", 1)[1]  # the banner line
        ours = [parse_block(b) for b in text.split("\r\n\r\n") if b]
        assert [m for m in ours if m] == parse_ami_text(text), path.name
