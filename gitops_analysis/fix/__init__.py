"""The fix: one owner per shared resource, narrowed kustomizations, waves, and the proof."""
