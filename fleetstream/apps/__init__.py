"""Applications on top of the groups: the CLI, the one-shot sweep, demo, Lambda mode, DLQ replay."""
