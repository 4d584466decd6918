"""The services' public HTTP APIs as the CLI calls them: every transport failure becomes
ServiceUnreachable (exit 3), every error status ApiRefused with the service's own words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx

from cli.exit_codes import ApiRefused, ServiceUnreachable

TIMEOUT_S = 30.0


class ServiceApi:
    def __init__(self, service: str, base_url: str, token: str | None, lang: str) -> None:
        self.service = service
        self.base_url = base_url
        headers = {"Accept-Language": lang}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT_S)

    def get(self, path: str, params: Iterable[tuple[str, str]] | dict[str, Any] | None = None) -> Any:
        return self._json(self._send("GET", path, params=params))

    def post(self, path: str, body: Any = None, accept: Sequence[int] = ()) -> Any:
        return self._json(self._send("POST", path, json=body, accept=accept))

    def upload(self, path: str, file_path: Path, accept: Sequence[int] = ()) -> tuple[int, Any]:
        with file_path.open("rb") as stream:
            response = self._send("POST", path, files={"file": (file_path.name, stream)}, accept=accept)
        return response.status_code, self._json(response)

    def redirect_location(self, path: str) -> str:
        """Where a `307` points (a pre-signed URL), without following it: the URL is for
        a plain client, never sent our token."""
        response = self._send("GET", path, accept=(301, 302, 303, 307, 308))
        return response.headers["location"]

    def fetch_bytes(self, path: str) -> tuple[bytes, str | None]:
        response = self._send("GET", path)
        return response.content, response.headers.get("content-disposition")

    def _send(self, method: str, path: str, accept: Sequence[int] = (), **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise ServiceUnreachable(
                "service_unreachable", service=self.service, url=self.base_url, reason=type(error).__name__
            ) from error
        if response.status_code >= 300 and response.status_code not in accept:
            raise ApiRefused(self.service, response.status_code, error_detail(response))
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        return response.json() if response.content else None


def error_detail(response: httpx.Response) -> str:
    """The explanation in an error body, whichever shape the service gives it: FastAPI's
    `detail` (text or a list of located problems), or `{code, message, problems}`."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    return describe_error_body(body)


def describe_error_body(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    parts: list[str] = []
    detail = body.get("detail")
    if isinstance(detail, str):
        parts.append(detail)
    elif isinstance(detail, list):
        parts.extend(_located(item) for item in detail)
    if body.get("message"):
        parts.append(str(body["message"]))
    for problem in body.get("problems") or []:
        parts.append(_located(problem))
    return "; ".join(dict.fromkeys(parts)) or str(body)


def _located(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(p) for p in item.get("loc") or [] if p not in ("body", "query"))
    where = where or str(item.get("column") or item.get("field") or "")
    text = str(item.get("msg") or item.get("message") or item)
    return f"{where}: {text}" if where else text
