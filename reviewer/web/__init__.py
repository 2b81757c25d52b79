"""The web app for the evaluation panel: server-rendered pages under /web, mounted by reviewer.server."""
