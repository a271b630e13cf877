"""Microsoft Graph limits the whole tool agrees on (docs/graph-contract.md).

The emulator enforces them, the client paces itself by them, analyse and
transform plan around them: one definition keeps the three honest.
"""

# Import (docs/graph-contract.md#import-message-rules, #migration-sessions).
CHANNEL_RPS = 5.0  # requests per second to one channel or chat
MAX_BODY_BYTES = 28_000  # observed: larger HTML bodies are refused (413/400)
# Observed: tenants refuse far smaller inline images than documented (docs/graph-contract.md#inline-images); the
# default cap of transform (migration.yaml `defaults.inline_image_max_bytes`) and of the emulator's strict reading.
MAX_INLINE_IMAGE_BYTES = 262_144
MAX_REACTIONS = 250  # reactions one imported message may carry (import article, November 2025)
MAX_REQUEST_BYTES = 4_000_000  # keep one import request well under a few MB
SIMPLE_UPLOAD_MAX_BYTES = 4 * 1024 * 1024  # PUT .../content; above this use an upload session

# Export (seeds 000-002, 004).
EXPORT_TENANT_RPS = 200.0  # per app per tenant
EXPORT_APP_RPS = 600.0  # per app across tenants
EXPORT_MAX_TOP = 50
DELETED_RETENTION_DAYS = 30

# Service-wide Teams limits (Graph "service-specific throttling limits").
TEAMS_CALLS_PER_10S = 15_000  # any Teams call, per app per tenant
IMPORT_BUDGET_RPS = TEAMS_CALLS_PER_10S / 10  # load's default import budget: 300 conversations at CHANNEL_RPS
CHANNEL_WRITES_PER_S = 30.0  # POST/PUT channel, per app per tenant
TEAM_CREATES_PER_S = 6.0  # POST /teams, per app per tenant
TEAM_CHANNEL_READS_PER_S = 60.0  # GET team / channel, per app per tenant

# Directory look-ups ($filter query parameter page: "limited to 15 expressions" with `in`, by default).
USERS_IN_FILTER_MAX = 15  # values of one `id in (…)` filter
