"""Slack transport: the bolt app, its listeners, the Web API client and the HTTP server."""
