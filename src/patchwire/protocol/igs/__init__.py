"""Ingescape protocol layer (pure): message and publication codecs."""
