"""web: the dxrx HTTP service (REST API, CDS Hooks, UI) over the same pipeline as the CLI.

Start it with ``dxrx serve``; build it with :func:`dxrx.web.app.create_app`.
"""
