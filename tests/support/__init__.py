"""Helpers shared by patchwire's tests (network namespaces, the real Ingescape agent)."""
