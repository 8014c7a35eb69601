"""Use cases: one function per action, called alike by every door."""
