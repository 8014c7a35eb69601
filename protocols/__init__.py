"""PDF protocols and roll-call sheets, rendered from read models (to come)."""
