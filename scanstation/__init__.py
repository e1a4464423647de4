"""ScanStation: a scanning station for social-security archives (社保档案)."""

__version__ = "0.1.0"
SOFTWARE_NAME = "ScanStation"
