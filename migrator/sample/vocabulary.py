"""The words, names and snippets synthetic workspaces are made of.

Chosen to exercise what breaks converters in real exports: accents and
combining marks, CJK, right-to-left scripts, emoji outside the BMP, HTML
special characters, code, and Slack's own markup characters.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Katherine", "José", "Mei", "Priya", "Søren", "Zoë", "Linus", "Amara", "Björn",
    "Chloé", "Dmitri", "Eleni", "Farah", "Giulia", "Hiroshi", "Ingrid", "Jürgen", "Kalani", "Łukasz",
    "Mateus", "Nia", "Oğuz", "Pilar", "Quang", "Renée", "Siobhán", "Tomás", "Uma", "Václav", "Wiremu",
    "Xiadani", "Yara", "Zainab", "Aarav", "Bea", "Chidi", "Dana",
)
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Johnson", "García", "Chen", "Patel", "Kierkegaard", "Ødegaard",
    "Torvalds", "Okafor", "Åström", "Dubois", "Ivanov", "Papadopoulou", "Haddad", "Rossi", "Tanaka",
    "Bergström", "Müller", "Kahale", "Wiśniewski", "Silva", "Mensah", "Yılmaz", "Fernández", "Nguyễn",
    "Lefèvre", "Ní Bhriain", "O'Connor", "Iyer", "Novák", "Parata", "López", "Haddadi", "Abubakar",
)
CHANNEL_WORDS = (
    "engineering", "design", "sales", "support", "marketing", "ops", "finance", "legal", "hiring", "data",
    "mobile", "web", "infra", "security", "product", "research", "releases", "incidents", "social", "books",
    "music", "travel", "food", "lunch", "emea", "apac", "amer", "qa", "docs", "platform", "growth", "pets",
)
WORDS = (
    "the", "we", "release", "deploy", "review", "meeting", "tomorrow", "today", "customer", "issue", "fix",
    "build", "pipeline", "draft", "plan", "budget", "quarter", "roadmap", "ticket", "migration", "server",
    "launch", "feedback", "design", "test", "coffee", "agenda", "slides", "numbers", "report", "update",
    "should", "could", "will", "maybe", "again", "before", "after", "during", "with", "without", "for",
    "and", "but", "so", "because", "is", "are", "was", "looks", "good", "ready", "blocked", "done", "late",
    "early", "great", "small", "big", "new", "old", "quick", "final", "second", "first", "next", "last",
)
SENTENCE_ENDS = (".", ".", ".", "!", "?", "…", " 🙂", "")
UNICODE_PHRASES = (
    "café crème, naïve façade", "Grüße aus Zürich", "Smörgåsbord för alla", "¿Dónde está la reunión?",
    "今日は会議があります", "我们明天发布", "회의는 내일입니다", "Привет, команда!", "Γεια σας όλοι",
    "مرحبا بالجميع", "שלום לכולם", "नमस्ते टीम", "ยินดีต้อนรับ", "e\u0301 combined accents",
    "zero\u200bwidth space", "emoji 👩🏽\u200d💻🚀🇳🇿 and ❤️", "math: ∑ x² ≤ ∞", "quotes: «», „“, ‘’",
)
SPECIAL_TEXT = (
    "R&amp;D budget", "a &lt; b &amp;&amp; b &gt; c", "use &lt;div&gt; not &lt;table&gt;",
    "50% off * 2", "path C:\\temp\\new", "tabs\tand  double  spaces",
)
EMOJI = (
    "tada", "+1", "thumbsup", "smile", "joy", "eyes", "rocket", "white_check_mark", "fire", "heart",
    "thinking_face", "pray", "100", "raised_hands", "wave", "bug", "coffee", "warning", "shipit", "party-parrot",
)
CODE_SNIPPETS = (
    "def greet(name):\n    return f\"hello {name}\"",
    "SELECT id, name FROM users WHERE active = 1;",
    "for i in {1..5}; do echo \"$i\"; done",
    "if (a < b && b > c) { return <T>(x) => x; }",
    "{\"key\": \"value\", \"list\": [1, 2, 3]}",
    "git rebase -i HEAD~3",
)
INLINE_CODE = ("make test", "kubectl get pods", "x = y * 2", "npm ci", "SELECT 1", "<br/>")
LINKS = (
    ("https://example.com/docs/runbook", "runbook"),
    ("https://example.org/roadmap?q=2024&tab=all", "roadmap"),
    ("https://tickets.example.net/browse/OPS-1234", "OPS-1234"),
    ("https://en.wikipedia.org/wiki/Zürich", ""),
)
BOT_TEXTS = (
    "Build #{n} passed on main", "Deploy {n} to production finished", "Nightly report {n} is ready",
    "Alert {n}: disk usage above 80%",
)
FILE_TOPICS = ("notes", "report", "export", "plan", "minutes", "budget", "diagram", "screenshot", "photo", "chart")
