"""Electronic voting for city-council sittings: the server package."""
