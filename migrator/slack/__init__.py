"""Talking to Slack itself (not reading its export): where its Web API and files are, the token, the calls.

`config` reads SLACK_TOKEN and MIGRATOR_SLACK_URL, `links` says which of an
export's links are Slack-hosted files and where to fetch them, `web` makes the
Web API calls through slack_sdk (auth.test, users.list) and `download` streams
one file to disk. The `fetch` stage (`migrator.stages.fetch`) puts them together.
"""
