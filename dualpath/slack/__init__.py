"""Slack: ``messages`` builds a run's Block Kit messages (pure), ``client`` sends them (slack-sdk)."""
