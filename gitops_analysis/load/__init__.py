"""Reading: the hardened YAML reader, Applications, rendered manifests, exports -> frames."""
