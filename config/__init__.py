"""The sample config, config/tracker.toml: shipped in the package as `tracker.sample`, which
`tracker config init` writes out (the repo's copy and the installed one are this one file)."""
