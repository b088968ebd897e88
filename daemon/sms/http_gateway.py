"""A generic HTTP SMS gateway: URL, method, Authorization header and body template in config.

The template takes {to}, {text} and {ref}; values are escaped for the content type (JSON
string escapes, or URL-encoding for a form or a GET query). A 2xx answer is success (its
JSON `id`, `message_id` or `ref` becomes the gateway reference), 429 and 5xx and network
errors are retried later, any other 4xx refuses the message for good.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote_plus

import aiohttp

from models.core.settings import SmsSettings
from models.messaging import outbox

logger = logging.getLogger(__name__)


class HttpGateway:
    name = "http"

    def __init__(self, settings: SmsSettings, *, timeout: float = 15.0) -> None:
        if not settings.http_url:
            raise ValueError("[sms] http_url is empty")
        self.settings = settings
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _escape(self, value: str) -> str:
        kind = self.settings.http_content_type
        if self.settings.http_method == "GET" or kind == "application/x-www-form-urlencoded":
            return quote_plus(value)
        if "json" in kind:
            return json.dumps(value)[1:-1]
        return value

    def render(self, to: str, text: str, ref: str) -> str:
        # str.replace, not str.format: a JSON template is full of braces.
        body = self.settings.http_body_template
        for key, value in (("to", to), ("ref", ref), ("text", text)):
            body = body.replace("{" + key + "}", self._escape(value))
        return body

    async def send(self, to: str, text: str, ref: str) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = self.render(to, text, ref)
        headers = {}
        auth = self.settings.http_auth_header.get_secret_value()
        if auth:
            headers["Authorization"] = auth
        url, data = self.settings.http_url, None
        if self.settings.http_method == "GET":
            url = f"{url}{'&' if '?' in url else '?'}{body}"
        else:
            data = body.encode()
            headers["Content-Type"] = self.settings.http_content_type
        try:
            async with self._session.request(
                self.settings.http_method, url, data=data, headers=headers
            ) as response:
                answer = await response.text()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as err:
            raise outbox.RetryLater(f"SMS gateway unreachable: {err!r}") from err
        if status == 429:
            delay = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise outbox.RetryLater("SMS gateway: too many requests", delay)
        if status >= 500:
            raise outbox.RetryLater(f"SMS gateway error {status}: {answer[:200]}")
        if status >= 400:
            raise outbox.PermanentFailure(
                f"SMS gateway refused the message ({status}): {answer[:200]}"
            )
        return _reference(answer) or ref


def _reference(answer: str) -> str:
    try:
        data = json.loads(answer)
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("id", "message_id", "ref"):
            if data.get(key):
                return str(data[key])
    return ""
