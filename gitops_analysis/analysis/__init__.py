"""Frame analyses the rules and views build on: dependencies, wave graph, overlap."""
