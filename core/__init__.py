"""Montage AI core."""
