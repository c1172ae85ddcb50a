"""The package version, in a module of its own: modules that record or print it import this
rather than the package root, which imports the Python API (an import cycle otherwise)."""

__version__ = "0.1.0"
