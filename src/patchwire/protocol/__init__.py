"""patchwire.protocol."""
