"""Static files are linked with a hash of their content, so a browser refetches a file that
changed and keeps the one that did not."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from web.static import VersionedUrls


def _version(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()


def test_a_file_is_linked_with_the_hash_of_its_content(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_bytes(b"body { color: red }")
    urls = VersionedUrls(tmp_path)
    assert urls.url("css/app.css") == f"/static/css/app.css?v={_version(b'body { color: red }')}"
    assert urls.url("/css/app.css") == urls.url("css/app.css")


def test_a_changed_file_gets_a_new_link(tmp_path: Path) -> None:
    target = tmp_path / "app.js"
    target.write_bytes(b"one")
    urls = VersionedUrls(tmp_path)
    first = urls.url("app.js")
    target.write_bytes(b"two, longer")
    os.utime(target, ns=(1, 1))  # even with an old modification time, the size differs
    assert urls.url("app.js") == f"/static/app.js?v={_version(b'two, longer')}"
    assert urls.url("app.js") != first


def test_a_missing_file_or_one_outside_the_folder_has_no_version(tmp_path: Path) -> None:
    inside = tmp_path / "static"
    inside.mkdir()
    (tmp_path / "secret.txt").write_text("x")
    urls = VersionedUrls(inside)
    assert urls.url("nothing.js") == "/static/nothing.js"
    assert urls.url("../secret.txt") == "/static/../secret.txt"
