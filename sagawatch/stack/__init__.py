"""The embedded local stack behind ``sagawatch up``: real parts that install with pip."""
