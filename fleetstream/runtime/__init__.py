"""The consume-process-commit loops, dead letters and worker supervision every group runs on."""
