"""Self-contained HTML reports: jinja2 templates, inline CSS/JS, charts as inline SVG.

A report is opened by a customer on any machine, offline, so nothing in it
may load from the network.
"""
