"""AMI on the wire (daemon.ami.wire): frames written out literally, as Asterisk sends them."""

from __future__ import annotations

import pytest

from daemon.ami.wire import Framer, encode, parse_fields, parse_message, parse_stream

# -- one message ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("Event: Hangup\r\nCause: 16", {"Event": "Hangup", "Cause": "16"}),
        ("Event: Hangup\nCause: 16", {"Event": "Hangup", "Cause": "16"}),
        ("Event: X\r\nAccountCode: ", {"Event": "X", "AccountCode": ""}),
        ("Event: X\nAccountCode:", {"Event": "X", "AccountCode": ""}),
        ("Event: X\r\nMessage: a: b", {"Event": "X", "Message": "a: b"}),
        ("Event: X\nKey: v: w\nX: \nY:", {"Event": "X", "Key": "v: w", "X": "", "Y": ""}),
        ("Event: X\nCallerIDName:  two spaces", {"Event": "X", "CallerIDName": " two spaces"}),
        ("Event: X\r\nVariable: a=1\r\nVariable: b=2", {"Event": "X", "Variable": "a=1\nb=2"}),
        ("Event: X\r\nnot a header\r\nK: v", {"Event": "X", "K": "v"}),
        ("Event: X\nbad key: v\nK: v", {"Event": "X", "K": "v"}),
        ("no header at all", None),
        ("", None),
    ],
)
def test_parse_message(block, expected):
    assert parse_message(block) == expected


def test_repeated_keys_keep_every_value_in_order():
    block = (
        "Event: OriginateResponse\r\n"
        "ChanVariable: FROM_DID=\r\n"
        "Channel: PJSIP/101-00000001\r\n"
        "ChanVariable: SIPURI=sip:42@10.10.10.1:4242\r\n"
    )
    assert parse_fields(block) == [
        ("Event", "OriginateResponse"),
        ("ChanVariable", "FROM_DID="),
        ("Channel", "PJSIP/101-00000001"),
        ("ChanVariable", "SIPURI=sip:42@10.10.10.1:4242"),
    ]
    assert parse_message(block) == {
        "Event": "OriginateResponse",
        "ChanVariable": "FROM_DID=\nSIPURI=sip:42@10.10.10.1:4242",
        "Channel": "PJSIP/101-00000001",
    }


def test_command_output_of_asterisk_14_and_later():
    block = (
        "Response: Success\r\nActionID: v-1\r\nMessage: Command output follows\r\n"
        "Output: Asterisk 22.10.1 built by root @ vm\r\n"
        "Output: Verbosity: 3\r\n"
    )
    assert parse_message(block) == {
        "Response": "Success",
        "ActionID": "v-1",
        "Message": "Command output follows",
        "Output": "Asterisk 22.10.1 built by root @ vm\nVerbosity: 3",
    }


OLD_COMMAND = (
    b"Response: Follows\r\nPrivilege: Command\r\nActionID: v-2\r\n"
    b"Channel              Location     State: Up\n"
    b"Verbosity: 3\n"
    b"\n"
    b"1 active channel\n"
    b"--END COMMAND--\r\n\r\n"
)
OLD_COMMAND_READ = {
    "Response": "Follows",
    "Privilege": "Command",
    "ActionID": "v-2",
    "Output": "Channel              Location     State: Up\nVerbosity: 3\n\n1 active channel",
}


def test_command_output_of_asterisk_13_reads_as_output_lines():
    # Raw CLI lines (one of them blank, one that looks like a header) up to --END COMMAND--.
    framer = Framer()
    blocks = framer.feed(OLD_COMMAND + b"Event: Ping\r\n\r\n")
    assert [parse_message(b) for b in blocks] == [OLD_COMMAND_READ, {"Event": "Ping"}]


def test_an_old_command_answer_is_held_until_its_end_marker():
    framer = Framer()
    cut = OLD_COMMAND.index(b"\n\n") + 2  # right after the blank line inside the output
    assert framer.feed(OLD_COMMAND[:cut]) == []
    assert [parse_message(b) for b in framer.feed(OLD_COMMAND[cut:])] == [OLD_COMMAND_READ]


# -- a stream --------------------------------------------------------------------------------

SESSION = (
    b"Asterisk Call Manager/11.0.0\r\n"
    b"Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
    b"Event: Newchannel\r\nChannel: PJSIP/carrier-00000001\r\n"
    b"CallerIDName: Jos\xc3\xa9 \xd0\x98\r\n"
    b"Uniqueid: 1795913496.0\r\n\r\n"
    b"Event: Hangup\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
)
SESSION_READ = [
    {"Response": "Success", "ActionID": "1", "Message": "Authentication accepted"},
    {
        "Event": "Newchannel",
        "Channel": "PJSIP/carrier-00000001",
        "CallerIDName": "José И",
        "Uniqueid": "1795913496.0",
    },
    {"Event": "Hangup", "Cause": "16", "Cause-txt": "Normal Clearing"},
]


def test_the_banner_is_taken_off_and_its_version_kept():
    framer = Framer()
    assert [parse_message(b) for b in framer.feed(SESSION)] == SESSION_READ
    assert framer.version == "11.0.0"


def test_any_cut_between_reads_gives_the_same_messages():
    # Cuts inside the banner, inside a CRLF, inside the blank line, inside é and И.
    for size in (1, 2, 3, 7, 30):
        framer = Framer()
        blocks = []
        for at in range(0, len(SESSION), size):
            blocks += framer.feed(SESSION[at : at + size])
        assert [parse_message(b) for b in blocks] == SESSION_READ, size
        assert framer.version == "11.0.0"


def test_bare_lf_lines_and_extra_blank_lines_are_accepted():
    framer = Framer()
    data = b"Action: Login\nUsername: crm\nSecret: s\n\n\n\nAction: Ping\r\nActionID: 2\r\n\r\n"
    assert [parse_fields(b) for b in framer.feed(data)] == [
        [("Action", "Login"), ("Username", "crm"), ("Secret", "s")],
        [("Action", "Ping"), ("ActionID", "2")],
    ]
    assert framer.version is None  # a client sends no banner


def test_a_stream_without_its_last_blank_line_keeps_its_last_message():
    text = "Event: A\r\nK: 1\r\n\r\nEvent: B\r\nK: 2\r\n"
    assert parse_stream(text) == [{"Event": "A", "K": "1"}, {"Event": "B", "K": "2"}]


def test_a_recorded_stream_reads_like_the_socket():
    assert parse_stream(SESSION.decode()) == SESSION_READ


# -- writing -------------------------------------------------------------------------------


def test_pairs_are_written_in_order_with_crlf_and_a_blank_line():
    fields = [("Response", "Success"), ("ActionID", "t-2"), ("Ping", "Pong")]
    assert encode(fields) == b"Response: Success\r\nActionID: t-2\r\nPing: Pong\r\n\r\n"


def test_repeated_keys_are_written_as_repeated_lines():
    assert encode({"Action": "Originate", "Variable": ["A=1", "B=2"], "Account": None}) == (
        b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\nAccount: \r\n\r\n"
    )
    # The dict a reader made of a repeated key goes back as the lines it came from.
    assert encode({"Event": "X", "Output": "one\ntwo"}) == (
        b"Event: X\r\nOutput: one\r\nOutput: two\r\n\r\n"
    )


def test_non_ascii_values_are_written_as_utf8():
    assert encode([("CallerIDName", "José")]) == b"CallerIDName: Jos\xc3\xa9\r\n\r\n"
