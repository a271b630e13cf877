"""`make reliability`: a migration that survives faults, kill -9 and an emulator restart.

Bad input is refused and no secret leaks.

Each check drives the real commands (`python -m migrator …`) against an
emulator process on loopback, and judges by `verify`, which reads everything
back through the export APIs.
"""
