"""Stream one Slack-hosted file to disk, and keep only what is really the file.

Slack answers a download with an expired, wrong or under-scoped token with
**200 and its HTML sign-in page**; tools that trusted the status saved that
page as the file. So a download is written under a temporary name, checked
against what the export says of the file (its `size`; an HTML page where the
export names another type is the sign-in page), and only then renamed to its
final name (an atomic rename on the same file system): a `kill -9` at any
moment leaves no partial file under a name the readers would take.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import requests

from migrator.graph.ratelimit import RateLimiter
from migrator.graph.retry import RetryPolicy
from migrator.slack.config import SlackConfig

Advance = Callable[[int], None]  # told the bytes of each chunk written (a progress bar); less when a try is undone
CHUNK = 1 << 18  # 256 KB: a worker holds one chunk, whatever the file's size
_HTML_START = (b"<!doctype html", b"<html", b"<!--", b"<head")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class Result(StrEnum):
    """How one download ended; the fetch counts each apart."""

    FETCHED = "fetched"
    DELETED = "deleted"  # 404 or 410: deleted in Slack since the export
    REFUSED = "refused"  # 401 or 403: the token may not read this file
    FAILED = "failed"  # the sign-in page, a wrong size, or Slack kept failing: running again retries it


@dataclass(frozen=True)
class Wanted:
    """One file to fetch: what the export says of it."""

    id: str
    name: str
    url: str  # where to fetch it (`links.download_url`): Slack's files host or MIGRATOR_SLACK_URL
    size: int | None
    mimetype: str


@dataclass(frozen=True)
class Downloaded:
    result: Result
    bytes: int = 0
    reason: str = ""


class Refusal(Exception):
    """The answer is not the file (the sign-in page, another size); control flow inside this module."""


class Downloader:
    """Downloads files into their final paths, each within the shared pace and with retries; thread-safe."""

    def __init__(
        self,
        config: SlackConfig,
        partial_dir: Path,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._config = config
        self._partial = partial_dir
        self._limiter = limiter
        self._policy = policy or RetryPolicy()
        self._session = requests.Session()
        # No netrc credentials from the environment may replace the token's header; the proxy settings
        # (HTTPS_PROXY, NO_PROXY) are still honoured, per request, as slack_sdk honours them for the Web API.
        self._session.trust_env = False
        self.requests = 0
        self.throttled = 0

    def fetch(self, file: Wanted, target: Path, progress: Advance | None = None) -> Downloaded:
        """Download `file` to `target`, retrying 429 (after Retry-After), 5xx and lost connections."""
        attempt = 0
        while True:
            try:
                with self._limiter.slot(None):
                    response = self._get(file.url)
            except requests.RequestException as error:
                if not self._policy.retry_exception(error, idempotent=True) or attempt >= self._policy.max_retries:
                    return Downloaded(Result.FAILED, reason=f"no answer from Slack ({type(error).__name__})")
                time.sleep(self._policy.backoff(attempt))
                attempt += 1
                continue
            with response:
                outcome = self._answer(file, target, response, progress)
                if outcome is not None:
                    return outcome
                if response.status_code == 429:
                    self.throttled += 1
                elif attempt >= self._policy.max_retries:
                    return Downloaded(Result.FAILED, reason=f"HTTP {response.status_code} after every retry")
                wait = self._policy.wait(attempt, response)
            time.sleep(wait)
            attempt += 1 if response.status_code != 429 else 0  # Slack said when: a 429 is not a failure

    def _get(self, url: str) -> requests.Response:
        self.requests += 1
        return self._session.get(
            url,
            headers={"Authorization": f"Bearer {self._config.token}"},
            stream=True,
            verify=self._config.verify,
            timeout=(15, 120),
            proxies=requests.utils.get_environ_proxies(url),
            allow_redirects=True,  # requests drops the Authorization header on a redirect to another host
        )

    def _answer(
        self, file: Wanted, target: Path, response: requests.Response, progress: Advance | None
    ) -> Downloaded | None:
        """What this answer means; None when it is worth asking again."""
        status = response.status_code
        if status in (404, 410):
            return Downloaded(Result.DELETED, reason=f"HTTP {status}: deleted in Slack since the export")
        if status in (401, 403):
            return Downloaded(Result.REFUSED, reason=f"HTTP {status}: the token may not read this file")
        if self._policy.retry_status(status, idempotent=True):
            return None
        if status != 200:
            return Downloaded(Result.FAILED, reason=f"HTTP {status}")
        try:
            written = self._store(file, target, response, progress)
        except Refusal as refusal:
            return Downloaded(Result.FAILED, reason=str(refusal))
        except (requests.RequestException, OSError) as error:
            return None if isinstance(error, requests.RequestException) else _disk_error(error)
        return Downloaded(Result.FETCHED, bytes=written)

    def _store(self, file: Wanted, target: Path, response: requests.Response, progress: Advance | None) -> int:
        """Stream the body to a temporary file, check it, and rename it to `target`."""
        served = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if served in _HTML_TYPES and not _is_html(file.mimetype):
            raise Refusal(f"Slack answered with an HTML page ({served}), its sign-in page: the token was not accepted")
        self._partial.mkdir(parents=True, exist_ok=True)
        temporary = self._partial / f"{file.id}.{os.getpid()}.part"
        written = 0
        try:
            with open(temporary, "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    if (
                        written == 0
                        and not _is_html(file.mimetype)
                        and chunk.lstrip()[:16].lower().startswith(_HTML_START)
                    ):
                        raise Refusal("Slack answered with an HTML page, its sign-in page: the token was not accepted")
                    written += len(chunk)
                    if file.size is not None and written > file.size:
                        raise Refusal(f"Slack sent more than the {file.size:,} bytes the export gives for this file")
                    out.write(chunk)
                    if progress is not None:
                        progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            if file.size is not None and written != file.size:
                raise Refusal(f"Slack sent {written:,} bytes where the export gives {file.size:,}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            if progress is not None and written:
                progress(-written)  # this try's bytes do not count: the file is fetched again or not at all
            raise
        finally:
            temporary.unlink(missing_ok=True)
        return written

    def close(self) -> None:
        self._session.close()


def _is_html(mimetype: str) -> bool:
    return mimetype.split(";")[0].strip().lower() in _HTML_TYPES


def _disk_error(error: OSError) -> Downloaded:
    return Downloaded(Result.FAILED, reason=f"could not write the file: {error.strerror or error}")
