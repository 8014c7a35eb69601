"""The pure domain: rules of law and council practice, with no framework imports."""
