"""The Slack bot (Slack's Bolt for Python), a thin shell over the review jobs."""
