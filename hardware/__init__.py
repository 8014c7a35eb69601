"""Seat consoles: wire codec, bus master, gateway, simulator (to come)."""
