"""Montage AI resolve_plugin."""
