"""The desktop window (PySide6): the clerk's scan desk, the QC desk, search, catalog import, settings.

It holds no business rule: every check and change is a call into the same core the command line
uses (gathered in ``core_api``). Entry point: ``app.run_gui``.
"""
