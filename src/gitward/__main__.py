"""`python -m gitward` is the same as the `gitward` command."""

from gitward.cli.main import main

main()
