"""Pure-Python domain logic: no Flask or database imports."""
