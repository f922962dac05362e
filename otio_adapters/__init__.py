"""Montage AI otio_adapters."""
