"""Which of an export's file links are Slack-hosted files, their workspace, and where to fetch them from.

A Slack file lives at `https://files.slack.com/files-pri/{TEAM}-{FILE}/…` (`url_private`,
`url_private_download`; `files-tmb` for thumbnails). Exports carry a `?t=xoxe-…` token in some of these
links: it is never sent (the token goes in the Authorization header), and the reader has already masked it.
The token is sent only to Slack's files host or the host MIGRATOR_SLACK_URL names, so a link pointing
anywhere else (an external file, a crafted export) never receives it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from migrator.slack.config import FILES_URL, SlackConfig

_FILES_HOST = urlsplit(FILES_URL).netloc
_FILE_PATH = re.compile(r"^/files-[a-z-]+/(?P<team>[A-Z0-9]+)-(?P<file>[A-Z0-9]+)(?:/|$)")
_TOKEN_PARAMS = {"t", "token", "access_token"}


def file_path_ids(path: str) -> tuple[str, str] | None:
    """(team id, file id) of a Slack file path `/files-pri/T…-F…/…`, or None for any other path."""
    found = _FILE_PATH.match(path)
    return (found["team"], found["file"]) if found else None


def team_of(url: str) -> str | None:
    """The workspace a Slack-hosted file link belongs to (its team id), or None for any other link."""
    parts = urlsplit(url)
    if parts.netloc != _FILES_HOST:
        return None
    ids = file_path_ids(parts.path)
    return ids[0] if ids else None


def download_url(url: str, config: SlackConfig) -> str | None:
    """Where to fetch a Slack-hosted file: its link on `config`'s files host, without any token parameter;
    None when the link is not Slack's (an external file), so no token is ever sent there."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.netloc != _FILES_HOST or file_path_ids(parts.path) is None:
        return None
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TOKEN_PARAMS and "xox" not in value and "token removed" not in value
    ]
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=~")  # Slack writes names with spaces into links
    return config.files_url + path + (f"?{urlencode(query)}" if query else "")
