"""The archive on the network: ``scanstation archive serve`` (browser pages and the station upload API).

A shell like ``cli/`` and ``ui/``: every action is a call into the service layer. See docs/web.md.
"""
