"""patchwire.runtime."""
