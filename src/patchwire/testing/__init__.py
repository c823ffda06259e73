"""patchwire.testing."""
