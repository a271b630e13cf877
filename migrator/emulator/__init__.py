"""A local Microsoft Graph emulator: the default target and the test oracle.

`models` holds the state and every rule, `routes` only parses HTTP and renders,
`server` runs it over HTTPS; see README "Graph emulator".
"""
