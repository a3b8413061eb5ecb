"""`python -m fediverse_a2` runs the same command as `fediverse-a2`."""

from .cli import main

main()
