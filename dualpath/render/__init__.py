"""Plans, findings and run records as documents: Markdown, HTML, JSON, SARIF (Jinja2 templates)."""
