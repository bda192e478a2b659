"""The action plane: requests, selection, the action registry and the audit trail."""
