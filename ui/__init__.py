"""Montage AI ui."""
