"""The command line: the parser and one small module per subcommand."""
