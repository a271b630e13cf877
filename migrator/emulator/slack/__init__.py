"""A local Slack for the fetch's tests: the Web API methods the fetch calls and the files an export links to.

`migrator emulator slack --export SOURCE --files DIR` serves, over HTTPS on
loopback like the Graph emulator (same READY line), the workspace of one
export: `auth.test`, `users.list` with cursors, and file downloads with
Slack's behaviour where it matters (the HTML sign-in page for a bad token, 404
for a deleted file, 429 with Retry-After over its rate). `workspace` is what it
knows, `app` how it answers, `server` how it starts.
"""
