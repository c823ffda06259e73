"""patchwire.protocol.zre."""
